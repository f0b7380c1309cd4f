-- A webhook's delivery of an event in one index step. Deciding whether a live
-- event may go beside a backlog (its lane has nothing older pending on this
-- webhook) joins the subscriber's events to this webhook's deliveries: with
-- the old key on event_id alone that read every webhook's delivery of each
-- event (a campaign's event has one per webhook). The new key serves the
-- foreign key to events as well, so the old one goes: a delivery costs no more
-- index writes than before. In place and without locking writes on MariaDB
-- 10.6+ and MySQL 8; no release names either key.
alter table deliveries
  add key ix_deliveries_event_webhook (event_id, webhook_id, status),
  drop key ix_deliveries_event;
