INSERT INTO t VALUES ('a;''b', E'c\';d', U&'\0041;', B'1010', X'1F');
SELECT "semi;colon" FROM "odd""name";
CREATE FUNCTION f() RETURNS text AS $body$ SELECT 'x;y' $body$ LANGUAGE sql;
SELECT $1, $$;$$, a$b FROM t; -- trailing; comment
/* a /* nested */ comment; */ SELECT 1
