-- API accounts: the customers of the newsletter platform that own webhooks.
-- password_hash is scrypt with a per-account salt (see src/domain/passwords.ts);
-- the plain password is never stored.
create table if not exists accounts (
  id bigint unsigned not null auto_increment,
  username varchar(255) collate utf8mb4_bin not null,
  password_hash varchar(255) not null,
  email varchar(320) not null,
  language char(2) not null default 'de',
  created_at datetime(3) not null,
  primary key (id),
  unique key uq_accounts_username (username)
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;
