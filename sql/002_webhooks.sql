-- A webhook: one event of one account, POSTed to one URL.
-- app and event use a binary collation because GetWebHooks filters by exact match.
-- Failure and scheduling state lives in columns, so that a restarted worker (or
-- another machine's) reaches the same decision:
--   due_at            when the webhook's oldest pending delivery may be tried; null when none waits
--   locked_by/_until  the worker lease on the webhook while its deliveries are sent
--   deactivations     how many times it was deactivated; names one deactivation in tokens
create table if not exists webhooks (
  id bigint unsigned not null auto_increment,
  account_id bigint unsigned not null,
  app varchar(255) collate utf8mb4_bin not null,
  event varchar(32) collate utf8mb4_bin not null,
  url varchar(2048) not null,
  secret varchar(64) not null,
  active tinyint(1) not null default 1,
  created_at datetime(3) not null,
  deactivated_at datetime(3) null,
  deactivations int unsigned not null default 0,
  failure_count int unsigned not null default 0,
  first_failure_at datetime(3) null,
  last_error varchar(500) null,
  dropped_events int unsigned not null default 0,
  due_at datetime(3) null,
  locked_by varchar(64) null,
  locked_until datetime(3) null,
  primary key (id),
  -- GetWebHooks: one account's webhooks in id order, optionally by event or app
  key ix_webhooks_account (account_id, id),
  key ix_webhooks_account_event (account_id, event),
  key ix_webhooks_account_app (account_id, app),
  -- the worker's claim: webhooks whose next delivery is due
  key ix_webhooks_due (due_at),
  constraint fk_webhooks_account foreign key (account_id) references accounts (id) on delete cascade
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;
