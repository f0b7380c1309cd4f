-- Resend, recover, the receiver's answer, sequence numbers (the third release).
--
-- deliveries.sequence           webhook-sequence: per webhook, increasing in the
--                               order events are accepted, never reused; kept
--                               by retries, replays and resends. Null for
--                               deliveries the previous release made (they go
--                               out without the sequence headers).
-- deliveries.previous_sequence  webhook-previous-sequence: the sequence of the
--                               same subscriber's previous event on this
--                               webhook, 0 when none is kept.
-- deliveries.occurred_at        from now on the delivery's place in its
--                               webhook's queue: the event's time, or the
--                               moment it was resent (so a resend goes behind
--                               its lane's waiting events); the event's own
--                               time stays in events.occurred_at.
-- webhooks.last_sequence        the last sequence given out.
-- webhooks.last_keyless_sequence / previous_keyless_sequence
--                               the chain of events without a subscriber key
--                               (one lane), kept here because no index finds
--                               an account's key-less events cheaply.
-- attempts.response             the first RESPONSE_EXCERPT_BYTES of the
--                               receiver's answer, as text: personal data like
--                               payloads (kept ATTEMPT_RETENTION_DAYS, erased
--                               with its delivery).
--
-- Safe while the previous release runs: it writes none of these columns.
alter table webhooks
  add column last_sequence bigint unsigned not null default 0,
  add column last_keyless_sequence bigint unsigned not null default 0,
  add column previous_keyless_sequence bigint unsigned not null default 0;

alter table deliveries
  add column sequence bigint unsigned null after event_id,
  add column previous_sequence bigint unsigned null after sequence;

alter table attempts
  add column response text null after error;
