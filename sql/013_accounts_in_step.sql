-- Accounts as the platform keeps them (the third release).
--
-- accounts.password_hash  besides our own scrypt hashes, what PHP's
--                         password_hash() writes (bcrypt $2y$/$2b$, $argon2id$,
--                         $argon2i$), handed over by PUT /internal/accounts;
--                         kept as given (see docs/decisions.md)
-- login_failures.account_id the account a throttling row counts against, so
--                         that closing an account finds its rows (their keys
--                         are hashes). Rows of the previous release have none
--                         and age out with LOGIN_FAILURE_WINDOW_SECONDS.
alter table login_failures
  add column account_id bigint unsigned null after subject_hash,
  add key ix_login_failures_account (account_id);
