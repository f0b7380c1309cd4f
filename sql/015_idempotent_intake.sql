-- Idempotent intake (the third release): an event may carry the platform's
-- own id for it, unique per account. The same id again, while the first
-- event is kept (PAYLOAD_RETENTION_DAYS), is answered as accepted and stores
-- and sends nothing new, so a platform may retry a call whose answer it never
-- got (a database node died at commit) without a receiver getting the event
-- twice under two webhook-ids.
--
-- events.external_id     the platform's id (intake's `id`, the outbox's
--                        event_id, `webhooks emit --id`), null when none
-- event_outbox.event_id  the same for rows the platform writes itself
--
-- Safe while the previous release runs: it writes neither column.
alter table events
  add column external_id varchar(255) collate utf8mb4_bin null after account_id,
  add unique key uq_events_external_id (account_id, external_id);

alter table event_outbox
  add column event_id varchar(255) collate utf8mb4_bin null after account;
