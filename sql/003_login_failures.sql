-- Failed logins per username and per client address, for throttling across
-- every API process. subject_hash is SHA-256 of the username or address, so
-- the table holds no guessed usernames in clear.
create table if not exists login_failures (
  scope enum('username', 'address') not null,
  subject_hash binary(32) not null,
  window_start datetime(3) not null,
  failures int unsigned not null,
  primary key (scope, subject_hash)
) engine=InnoDB;
