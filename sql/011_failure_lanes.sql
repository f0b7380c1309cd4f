-- Failures cost their own lane (the third release).
--
-- A failed attempt backs off its own lane (the delivery and the later events
-- of its subscriber on this webhook), not the whole webhook. The lane's state
-- lives on the delivery at its head, so that a worker that restarts, or
-- another machine's, finds it:
--   deliveries.failures   failed attempts of this delivery in its lane in a
--                         row; at DEACTIVATE_AFTER_FAILURES, while the
--                         endpoint succeeds elsewhere, it is given up
--   deliveries.retry_at   the lane waits until then; later events of the same
--                         subscriber wait behind it
--   deliveries.status     'failed': given up for good (resendable)
--
-- The endpoint's health lives on the webhook:
--   failure_count         failed steps in a row (one step per schedule
--                         interval; failures of parallel lanes within one step
--                         count once); deactivation counts these, as before
--   failure_step_at       when the current failed step began
--   failure_streak        failed attempts in a row across lanes, no success between
--   circuit_open          the endpoint counts as down: the whole webhook backs
--                         off (due_at) and sends one probe per step
--   lane_retry_at         the latest retry_at any lane was given: while it
--                         lies in the future, a round skips backing-off lanes;
--                         after it, no lane can be backing off and a round
--                         reads deliveries without looking at lanes
--
-- Safe while the previous release runs: it writes none of these columns (its
-- defaults mean "healthy, no lane backs off") and never writes 'failed'.
alter table deliveries
  modify status enum('pending', 'buffered', 'delivered', 'discarded', 'failed') not null,
  add column failures int unsigned not null default 0 after attempts,
  add column retry_at datetime(3) null after failures,
  add key ix_deliveries_lane_backoff (webhook_id, status, retry_at);

alter table webhooks
  add column failure_step_at datetime(3) null after first_failure_at,
  add column failure_streak int unsigned not null default 0 after failure_step_at,
  add column circuit_open tinyint(1) not null default 0 after failure_streak,
  add column lane_retry_at datetime(3) null after circuit_open;

-- A webhook that backs off under the first release's rule (failure_count > 0)
-- keeps doing so as an open circuit until its next success.
update webhooks set circuit_open = 1, failure_streak = failure_count, failure_step_at = first_failure_at where failure_count > 0;
