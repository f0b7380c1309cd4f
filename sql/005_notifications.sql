-- System notifications: one per deactivation of a webhook, stored here and sent
-- as e-mail by the worker. details holds what the e-mail tells (JSON):
-- lastError, failureClass, failureCount, firstFailureAt, reason.
create table if not exists notifications (
  id bigint unsigned not null auto_increment,
  account_id bigint unsigned not null,
  webhook_id bigint unsigned not null,
  deactivation int unsigned not null,
  kind varchar(32) not null,
  details text not null,
  created_at datetime(3) not null,
  status enum('pending', 'sent') not null default 'pending',
  send_attempts int unsigned not null default 0,
  next_attempt_at datetime(3) not null,
  last_error varchar(500) null,
  locked_by varchar(64) null,
  locked_until datetime(3) null,
  sent_at datetime(3) null,
  subject varchar(255) null,
  body_text mediumtext null,
  body_html mediumtext null,
  primary key (id),
  unique key uq_notifications_deactivation (webhook_id, deactivation, kind),
  key ix_notifications_due (status, next_attempt_at),
  constraint fk_notifications_account foreign key (account_id) references accounts (id) on delete cascade,
  constraint fk_notifications_webhook foreign key (webhook_id) references webhooks (id) on delete cascade
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;
