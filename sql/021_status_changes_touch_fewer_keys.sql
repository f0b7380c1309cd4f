-- A delivery's status changes twice in its life (pending, then delivered or
-- failed), and every key that holds status is rewritten each time. Two keys of
-- this release held it without needing it, so a delivery cost four key
-- rewrites per change where the second release paid two, and a campaign's
-- database did a fifth more writes per delivery:
--   ix_deliveries_lane_backoff finds the lanes that back off (retry_at in the
--   future); a delivery whose retry lies ahead is nearly always pending, and
--   the status is read from the row for those few;
--   ix_deliveries_event_webhook serves the foreign key to events and finds a
--   webhook's delivery of an event; nothing reads its status from the key.
-- Same names, so the previous release's FORCE INDEX (ix_deliveries_lane_backoff)
-- keeps working; each key is rebuilt in place without locking writes
-- (MariaDB 10.6+, MySQL 8).
alter table deliveries
  drop key ix_deliveries_lane_backoff,
  add key ix_deliveries_lane_backoff (webhook_id, retry_at),
  drop key ix_deliveries_event_webhook,
  add key ix_deliveries_event_webhook (event_id, webhook_id);
