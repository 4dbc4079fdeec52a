-- revision: 0007
-- down_revision: 0006
-- message: SQL-standard body

-- migrate:upgrade
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE SQL
BEGIN ATOMIC
  SELECT CASE WHEN a IS NULL THEN 0 ELSE a + b END;
END;
INSERT INTO notes VALUES (E'it\'s; fine', U&'d\0061t;a', "semi;colon");
/* nested /* comment; */ still; */ SELECT $1;
-- migrate:downgrade transaction:false env:staging
VACUUM notes;
DROP FUNCTION add;
