-- revision: 0005
-- down_revision: 0004
-- create_date: 2024-01-05T00:00:00
-- message: Users email index

-- In production the index is built without blocking writes, which cannot
-- happen inside a transaction; elsewhere a plain index is quicker.
-- migrate:upgrade transaction:false env:production
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_email ON users (email);

-- migrate:upgrade env:!production
CREATE INDEX IF NOT EXISTS idx_users_email ON users (email);

-- migrate:downgrade transaction:false env:production
DROP INDEX CONCURRENTLY IF EXISTS idx_users_email;

-- migrate:downgrade env:!production
DROP INDEX IF EXISTS idx_users_email;
