-- revision: 0004
-- down_revision: 0003
-- create_date: 2024-01-01T00:00:00
-- message: Transactions of its own

-- migrate:upgrade transaction:false
SET lock_timeout = '5s';
SET statement_timeout = '1h';
BEGIN;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_quantity_idx ON public.orders (quantity);
COMMIT;
BEGIN;
BEGIN;
COMMIT;
BEGIN;
