-- Customer self-service: secret rotation, test requests, warnings before
-- deactivation.
--
-- previous_secret/_until  after RotateWebHookSecret the old secret still signs
--                         (beside the new one) until previous_secret_until
-- failure_runs            how many runs of consecutive failures the webhook has
--                         had; a run starts with its first failure and ends
--                         with a success or a deactivation. Names the run a
--                         warning e-mail is about, so that each run gets one.
-- tests_window_start/_in_window  TestWebHook calls per webhook and minute
alter table webhooks
  add column previous_secret varchar(64) null after secret,
  add column previous_secret_until datetime(3) null after previous_secret,
  add column failure_runs int unsigned not null default 0 after failure_count,
  add column tests_window_start datetime(3) null,
  add column tests_in_window int unsigned not null default 0;

-- A notification is one of a kind per occasion: a deactivation (kind
-- webhook_deactivated, by deactivation number) or a run of failures (kind
-- webhook_failing, by failure_run).
alter table notifications
  add column failure_run int unsigned not null default 0 after deactivation,
  drop key uq_notifications_deactivation,
  add unique key uq_notifications_occasion (webhook_id, kind, deactivation, failure_run);
