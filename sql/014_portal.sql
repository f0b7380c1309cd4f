-- The customer portal (the third release).
--
-- portal_links     one-time sign-in links from GetPortalLink: only the SHA-256
--                  of the token is kept; used_at ends a link at its first use
-- portal_sessions  a signed-in browser: only the SHA-256 of its cookie is
--                  kept; csrf is the token every form of the session carries;
--                  a session ends after PORTAL_SESSION_MINUTES without a request
create table if not exists portal_links (
  token_hash binary(32) not null,
  account_id bigint unsigned not null,
  webhook_id bigint unsigned null,
  language char(2) not null,
  expires_at datetime(3) not null,
  used_at datetime(3) null,
  primary key (token_hash),
  key ix_portal_links_expiry (expires_at),
  constraint fk_portal_links_account foreign key (account_id) references accounts (id) on delete cascade
) engine=InnoDB;

create table if not exists portal_sessions (
  id_hash binary(32) not null,
  account_id bigint unsigned not null,
  language char(2) not null,
  csrf char(43) not null,
  created_at datetime(3) not null,
  last_seen_at datetime(3) not null,
  primary key (id_hash),
  key ix_portal_sessions_seen (last_seen_at),
  constraint fk_portal_sessions_account foreign key (account_id) references accounts (id) on delete cascade
) engine=InnoDB;
