-- revision: 0004
-- down_revision: 0003
-- create_date: 2024-01-04T00:00:00
-- message: Verify company emails

-- migrate:upgrade
UPDATE users SET is_verified = true WHERE email LIKE '%@company.com';

-- migrate:downgrade
UPDATE users SET is_verified = false WHERE email LIKE '%@company.com';
