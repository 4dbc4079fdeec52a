-- revision: 0002
-- down_revision: 0001
-- create_date: 2024-01-02T00:00:00
-- message: Add user phone

-- Written for a live database: the ALTER stops waiting for its lock after 5s
-- rather than queue every query on users behind it, and in production the
-- index is built without blocking writes. There the transactional part
-- commits before the index build, so it is written to be rerun (IF NOT EXISTS).
-- migrate:upgrade
SET LOCAL lock_timeout = '5s';
ALTER TABLE users ADD COLUMN IF NOT EXISTS phone VARCHAR(20);

-- migrate:upgrade transaction:false env:production
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_phone ON users (phone);

-- migrate:upgrade env:!production
CREATE INDEX IF NOT EXISTS ix_users_phone ON users (phone);

-- migrate:downgrade transaction:false env:production
DROP INDEX CONCURRENTLY IF EXISTS ix_users_phone;

-- migrate:downgrade env:!production
DROP INDEX IF EXISTS ix_users_phone;

-- migrate:downgrade
SET LOCAL lock_timeout = '5s';
ALTER TABLE users DROP COLUMN IF EXISTS phone;
