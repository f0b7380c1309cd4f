-- One retention model, subscriber erasure, Zapier REST Hooks.
--
-- Retention (housekeeping): a finished delivery keeps its event's payload for
-- PAYLOAD_RETENTION_DAYS (then events.payload becomes null), its attempts for
-- ATTEMPT_RETENTION_DAYS, and the delivery row itself for the longer of the
-- two; an event row goes once no delivery refers to it. No cascade removes an
-- event's deliveries any more: an event is deleted only when it has none.
alter table events modify payload mediumtext null;
alter table deliveries drop foreign key fk_deliveries_event;
alter table deliveries add constraint fk_deliveries_event foreign key (event_id) references events (id);

-- An attempt belongs to its delivery: deleting a delivery (retention,
-- erasure, a deleted webhook) takes its attempts along, and an attempt whose
-- delivery was erased while it was in flight is never recorded
-- (insert ignore skips rows whose delivery is gone).
delete a from attempts a left join deliveries d on d.id = a.delivery_id where d.id is null;
alter table attempts add constraint fk_attempts_delivery foreign key (delivery_id) references deliveries (id) on delete cascade;

-- How a webhook came to be: through the webservice, or by Zapier's REST Hooks
-- subscribe call. A 410 Gone from a Zapier webhook is Zapier's unsubscribe: the
-- webhook is deleted, not deactivated.
alter table webhooks add column created_via enum('webservice', 'zapier') not null default 'webservice' after secret;

-- Zapier's sample call asks for an account's recent payloads of one event.
alter table events add key ix_events_account_event (account_id, event, id);
