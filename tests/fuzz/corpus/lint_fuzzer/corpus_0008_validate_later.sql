-- revision: 0008
-- down_revision: 0007
-- create_date: 2024-01-01T00:00:00
-- message: Safe: VALIDATE in a transaction of its own

-- migrate:upgrade
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1h';
ALTER TABLE public.payments VALIDATE CONSTRAINT payments_order_fk;
