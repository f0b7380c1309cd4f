-- The last sequence of each lane (one subscriber's events on one webhook),
-- for webhook-previous-sequence (the fourth release). Until now intake found
-- it with a subquery over the subscriber's earlier events and their
-- deliveries: a cost that grew with the subscriber's history and made every
-- fan-out buffer its rows in a temporary table. One row per lane keeps it one
-- index lookup and one upsert per delivery, whatever came before.
--
-- lane_sequences.subscriber      the subscriber key (events.subscriber); the
--                                key-less lane stays in webhooks.last_keyless_sequence
-- lane_sequences.last_sequence   the sequence of the lane's newest delivery
-- lane_sequences.last_at         when it was given out: a row older than the
--                                retention is purged, so that, as before, the
--                                previous sequence is 0 once nothing of the lane is kept
--
-- Personal data like the events' subscriber column: erased with the
-- subscriber, gone with the webhook (cascade) and so with the account.
--
-- Safe while the previous release runs: it neither reads nor writes this
-- table. Events it accepts between this migration and its processes' end
-- are not in the table; the backfill below covers what came before.
create table if not exists lane_sequences (
  webhook_id bigint unsigned not null,
  subscriber varchar(255) collate utf8mb4_bin not null,
  last_sequence bigint unsigned not null,
  last_at datetime(3) not null,
  primary key (webhook_id, subscriber),
  key ix_lane_sequences_age (last_at),
  constraint fk_lane_sequences_webhook foreign key (webhook_id) references webhooks (id) on delete cascade
) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci;

insert ignore into lane_sequences (webhook_id, subscriber, last_sequence, last_at)
select d.webhook_id, e.subscriber, max(d.sequence), max(d.created_at)
from deliveries d join events e on e.id = d.event_id
where d.sequence is not null and e.subscriber is not null
group by d.webhook_id, e.subscriber;
