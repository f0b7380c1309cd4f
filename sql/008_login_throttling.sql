-- Login throttling keyed on the account a login names, not on the text typed
-- (a username is compared exactly as stored; a spelling that names no account
-- is counted only against its client address). subject_hash is SHA-256 of:
--   account_address  the account id and the client address: LOGIN_FAILURE_LIMIT
--   account          the account id, from every address: 10 × the limit, so
--                    that one address cannot lock the owner out
--   address          the client address, whatever it tried: 5 × the limit
-- A login reserves its failure in every key that applies before the password
-- is hashed (an atomic increment), so a burst gets no more hashes than the
-- limit; a success gives the reservation back.
delete from login_failures where scope = 'username';
alter table login_failures modify scope enum('address', 'account', 'account_address') not null;
