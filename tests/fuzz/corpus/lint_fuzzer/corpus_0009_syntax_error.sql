-- revision: 0009
-- down_revision: 0008
-- create_date: 2024-01-01T00:00:00
-- message: A statement no parser takes

-- migrate:upgrade
SET LOCAL lock_timeout = '5s';
ALTER TABLE public.accounts ADD COLUMN;
