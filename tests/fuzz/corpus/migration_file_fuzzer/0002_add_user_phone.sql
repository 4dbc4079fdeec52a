-- revision: 0002
-- down_revision: 0001
-- create_date: 2024-01-02T00:00:00
-- message: Add user phone

-- migrate:upgrade
ALTER TABLE users ADD COLUMN phone VARCHAR(20);
CREATE INDEX ix_users_phone ON users (phone);

-- migrate:downgrade
DROP INDEX ix_users_phone;
ALTER TABLE users DROP COLUMN phone;
