-- An event that happened in an account, with the platform's JSON payload as
-- given. A delivery is one event for one webhook; an attempt is one HTTP try.
create table if not exists events (
  id bigint unsigned not null auto_increment,
  account_id bigint unsigned not null,
  event varchar(32) collate utf8mb4_bin not null,
  payload mediumtext not null,
  occurred_at datetime(3) not null,
  received_at datetime(3) not null,
  primary key (id),
  key ix_events_received (received_at),
  constraint fk_events_account foreign key (account_id) references accounts (id) on delete cascade
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;

-- status: pending (waits for its turn, or is being retried), buffered (its
-- webhook is deactivated; replayed or discarded on activation), delivered,
-- discarded. Pending deliveries of one webhook leave in (occurred_at, id) order.
create table if not exists deliveries (
  id bigint unsigned not null auto_increment,
  webhook_id bigint unsigned not null,
  event_id bigint unsigned not null,
  status enum('pending', 'buffered', 'delivered', 'discarded') not null,
  attempts int unsigned not null default 0,
  occurred_at datetime(3) not null,
  created_at datetime(3) not null,
  finished_at datetime(3) null,
  primary key (id),
  key ix_deliveries_queue (webhook_id, status, occurred_at, id),
  key ix_deliveries_event (event_id),
  key ix_deliveries_finished (status, finished_at),
  constraint fk_deliveries_webhook foreign key (webhook_id) references webhooks (id) on delete cascade,
  constraint fk_deliveries_event foreign key (event_id) references events (id) on delete cascade
) engine=InnoDB;

create table if not exists attempts (
  id bigint unsigned not null auto_increment,
  delivery_id bigint unsigned not null,
  webhook_id bigint unsigned not null,
  attempted_at datetime(3) not null,
  duration_ms int unsigned not null,
  status_code smallint unsigned null,
  succeeded tinyint(1) not null,
  failure_class varchar(32) null,
  error varchar(500) null,
  worker varchar(64) not null,
  primary key (id),
  key ix_attempts_webhook (webhook_id, id),
  key ix_attempts_time (attempted_at),
  constraint fk_attempts_webhook foreign key (webhook_id) references webhooks (id) on delete cascade
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;

-- The outbox: the platform's own code inserts here inside its own database
-- transaction (same database, or replicated into it), so an event is recorded
-- exactly when the platform's change commits:
--
--   insert into event_outbox (account, event, payload, occurred_at)
--   values ('customer-username', 'optin_finalized', '{"id": 371, ...}', utc_timestamp(3));
--
-- The worker takes rows in id order, stores them as events (with fan-out) and
-- deletes them in one transaction. A row it cannot accept keeps its place with
-- the reason in refused_reason, for an operator to inspect; nothing is dropped.
create table if not exists event_outbox (
  id bigint unsigned not null auto_increment,
  account varchar(255) collate utf8mb4_bin not null,
  event varchar(64) collate utf8mb4_bin not null,
  payload mediumtext not null,
  occurred_at datetime(3) null,
  created_at datetime(3) not null default current_timestamp(3),
  refused_reason varchar(500) null,
  primary key (id)
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;
