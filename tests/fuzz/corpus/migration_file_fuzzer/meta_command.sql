-- revision: 0008
-- down_revision: 0007

-- migrate:upgrade
\i other.sql
COPY users FROM STDIN;
