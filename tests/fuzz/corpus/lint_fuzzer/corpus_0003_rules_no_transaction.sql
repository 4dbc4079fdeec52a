-- revision: 0003
-- down_revision: 0002
-- create_date: 2024-01-01T00:00:00
-- message: Statements that cannot run in a transaction

-- migrate:upgrade transaction:false
SET lock_timeout = '5s';
SET statement_timeout = '1h';
CREATE INDEX CONCURRENTLY orders_total_idx ON public.orders (total);
VACUUM FULL public.orders;
DROP DATABASE legacy_reports;
