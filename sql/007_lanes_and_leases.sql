-- Per-subscriber order with parallel lanes, fenced leases, claims bounded by bytes.
--
-- events.subscriber   the subscriber key: intake's `subscriber` field, else the
--                     payload's subscriber_id, else null (all key-less events of
--                     a webhook share one lane). Deliveries of one subscriber
--                     leave one at a time in event order; different subscribers
--                     may be in flight together (WEBHOOK_PARALLELISM).
-- events.payload_bytes lets a claim bound what it loads by bytes without
--                     reading the payloads it will not take.
-- event_outbox.subscriber the same key for rows the platform writes itself.
-- webhooks.lease_token names one claim: recording and renewing check it, so a
--                     worker whose lease was taken over can never record.
alter table events
  add column subscriber varchar(255) collate utf8mb4_bin null after event,
  add column payload_bytes int unsigned not null default 0 after payload,
  add key ix_events_subscriber (account_id, subscriber);

update events set payload_bytes = length(payload);

alter table event_outbox
  add column subscriber varchar(255) collate utf8mb4_bin null after event;

alter table webhooks
  add column lease_token char(24) null after locked_until;

-- GetWebHookDeliveries and erasure find a delivery's attempts.
alter table attempts
  add key ix_attempts_delivery (delivery_id, id);
