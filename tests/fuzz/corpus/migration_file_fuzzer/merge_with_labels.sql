-- revision: m3rg
-- down_revision: ab12cd, ab12ef
-- branch_labels: billing
-- depends_on: 0002
-- create_date: 2024-02-01T00:00:00
-- message: Merge billing branches

-- migrate:upgrade
-- migrate:downgrade
