-- A notification without a mail server (SMTP_URL unset) is 'stored': rendered
-- and kept, readable with `webhooks notifications`, never sent. Until now it
-- was marked 'sent', which it was not.
--
-- Appending a value to an enum is instant on MariaDB and MySQL 8. The previous
-- release claims only 'pending' rows and writes 'sent'; it never reads a
-- 'stored' one.
alter table notifications modify status enum('pending', 'sent', 'stored') not null default 'pending';
