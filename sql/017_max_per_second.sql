-- The customer's throttle (the fourth release): at most this many requests of
-- the webhook in any second, across workers; null is no limit. A nullable
-- column added without a default is instant on MariaDB and invisible to the
-- previous release, which neither reads nor writes it.
alter table webhooks add column max_per_second smallint unsigned null;
