-- Headers of the customer's own (the fourth release): a JSON list of
-- {name, value}, sent with every request of the webhook; null: none. On the
-- webhook's row, so that a round reads them with the URL and the secret, and
-- they go with the webhook and its account. The values are write-only: no
-- answer, page or log shows them, only the names.
--
-- A nullable column without a default is instant on MariaDB and invisible to
-- the previous release, which neither reads nor writes it.
alter table webhooks add column custom_headers text null;
