-- Values every process must share, made once at first start: token_secret
-- (the key for reactivation links when TOKEN_SECRET is not configured).
create table if not exists settings (
  name varchar(64) not null,
  value varchar(255) not null,
  primary key (name)
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin;
