// The catalog module against real PostgreSQL: for each kind of object, a
// database built from `base` is upgraded with the SQL generated towards a
// database built from `desired`, must then read back as that catalog, and
// the generated downgrade must bring it back to its original catalog.
#include "schema/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>

#include "core/migration_file.h"
#include "db/catalog_reader.h"
#include "support/expect.h"
#include "support/pg_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {
namespace {

namespace fs = std::filesystem;

const CatalogReadOptions& ReadOptions() {
  static const CatalogReadOptions options{{"public.alembic_version", "public.schemagate_log"}};
  return options;
}

// A pair of databases: `a` is migrated, `b` holds the desired schema. Pairs
// are reused from case to case: emptying a database costs far less than
// CREATE DATABASE.
struct Databases {
  std::string a;
  std::string b;
};

// `count` pairs, created once (CreateDatabase is not thread-safe).
const std::vector<Databases>& Pairs(size_t count) {
  static std::vector<Databases> pairs;
  while (pairs.size() < count) {
    pairs.push_back({PgServer::Shared().CreateDatabase("catalog_a"),
                     PgServer::Shared().CreateDatabase("catalog_b")});
  }
  return pairs;
}
const Databases& Dbs() { return Pairs(1)[0]; }

constexpr const char* kReset = R"sql(
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
END $$;
CREATE SCHEMA public;
)sql";

std::string Joined(const GeneratedSql& sql) {
  std::string out;
  for (const std::string& s : sql.statements) {
    out += s + "\n";
  }
  return out;
}

std::string Describe(const std::vector<CatalogDifference>& diff) {
  std::string out;
  for (const CatalogDifference& d : diff) {
    out += "  " + FormatDifference(d) + "\n";
  }
  return out;
}

Catalog MustRead(const std::string& url) {
  Result<Catalog> catalog = ReadCatalog(url, ReadOptions());
  EXPECT_TRUE(catalog.ok()) << catalog.status().message();
  return catalog.ok() ? *catalog : Catalog{};
}

// Empties a database and builds `sql` in it, in one script.
Status Rebuild(const std::string& url, const std::string& source, const std::string& sql) {
  return ExecuteSqlScript(url, source, std::string(kReset) + sql + "\n;\n");
}

struct Outcome {
  GeneratedSql up;
  GeneratedSql down;
  bool unchanged = false;             // base and desired have the same catalog
  std::vector<std::string> failures;  // collected, so that round trips can run on other threads
};

// Builds `base` (+ `data`) in dbs.a and `desired` in dbs.b, upgrades a with
// the generated SQL, checks it reads back as b (and that nothing is left to
// generate), runs the generated downgrade and checks a reads back as it
// started. Unless `may_be_unchanged`, a case whose schemas are equal fails.
Outcome RoundTrip(const Databases& dbs, const std::string& base, const std::string& desired,
                  const std::string& data = "", bool may_be_unchanged = false) {
  Outcome out;
  auto fail = [&](const std::string& what) { out.failures.push_back(what); };
  auto read = [&](const std::string& url, const char* when) {
    Result<Catalog> c = ReadCatalog(url, ReadOptions());
    if (!c.ok()) {
      fail(std::string("reading ") + when + ": " + c.status().message());
    }
    return c.ok() ? *c : Catalog{};
  };
  // The two sides are independent: build them side by side.
  auto build_b = std::async(std::launch::async, [&] {
    Status s = Rebuild(dbs.b, "desired.sql", desired);
    return std::make_pair(s, s.ok() ? ReadCatalog(dbs.b, ReadOptions()) : Result<Catalog>(s));
  });
  Status s = Rebuild(dbs.a, "base.sql", base + "\n;\n" + data);
  if (!s.ok()) {
    fail("building base: " + s.message());
  }
  const Catalog original = s.ok() ? read(dbs.a, "base") : Catalog{};
  auto [desired_status, desired_catalog] = build_b.get();
  if (!desired_status.ok()) {
    fail("building desired: " + desired_status.message());
  }
  if (!desired_catalog.ok()) {
    fail("reading desired: " + desired_catalog.status().message());
  }
  if (!out.failures.empty()) {
    return out;
  }
  const Catalog& target = *desired_catalog;
  if (DiffCatalogs(original, target).empty()) {
    out.unchanged = true;
    if (!may_be_unchanged) {
      fail("the case changes nothing");
    }
    return out;
  }

  out.up = GenerateMigrationSql(original, target);
  s = ExecuteSqlScript(dbs.a, "upgrade.sql", Joined(out.up));
  if (!s.ok()) {
    fail("upgrade failed: " + s.message() + "\n--- upgrade:\n" + Joined(out.up));
    return out;
  }
  const Catalog upgraded = read(dbs.a, "after the upgrade");
  const auto left = DiffCatalogs(upgraded, target);
  if (!left.empty()) {
    fail("after the upgrade:\n" + Describe(left) + "--- upgrade:\n" + Joined(out.up));
  }
  const GeneratedSql again = GenerateMigrationSql(upgraded, target);
  if (!again.statements.empty()) {
    fail("a second upgrade would run:\n" + Joined(again));
  }

  // The downgrade of an autogenerated migration.
  out.down = GenerateMigrationSql(target, original);
  s = ExecuteSqlScript(dbs.a, "downgrade.sql", Joined(out.down));
  if (!s.ok()) {
    fail("downgrade failed: " + s.message() + "\n--- downgrade:\n" + Joined(out.down));
    return out;
  }
  const auto back = DiffCatalogs(read(dbs.a, "after the downgrade"), original);
  if (!back.empty()) {
    fail("after the downgrade:\n" + Describe(back) + "--- downgrade:\n" + Joined(out.down));
  }
  return out;
}

// The same on the first pair, reporting failures to the running test.
Outcome CheckedRoundTrip(const std::string& base, const std::string& desired,
                         bool may_be_unchanged = false) {
  Outcome out = RoundTrip(Dbs(), base, desired, "", may_be_unchanged);
  for (const std::string& f : out.failures) {
    ADD_FAILURE() << f;
  }
  return out;
}

struct Case {
  const char* name;
  const char* base;
  const char* desired;
  std::vector<std::string> up_contains = {};    // the upgrade must say this
  std::vector<std::string> up_lacks = {};       // ... and must not say this
  std::vector<std::string> down_contains = {};  // the downgrade must say this
  size_t up_warnings = 0;                       // how many warnings the upgrade carries
  const char* data = "";                        // rows put into the base database first
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::vector<Case>& Cases();

// The cases are independent and each spends its time waiting for server
// backends to start, so the selected ones run up front on a few database
// pairs at once; each test then reports its own outcome.
class CatalogRoundTrip : public ::testing::TestWithParam<Case> {
 protected:
  static constexpr size_t kWorkers = 2;

  static void SetUpTestSuite() {
    std::vector<const Case*> selected;
    const ::testing::TestSuite* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    for (int i = 0; suite && i < suite->total_test_count(); ++i) {
      const ::testing::TestInfo* info = suite->GetTestInfo(i);
      if (!info->should_run()) {
        continue;
      }
      const std::string name = info->name();
      for (const Case& c : Cases()) {
        if (name.size() > std::strlen(c.name) &&
            name.compare(name.size() - std::strlen(c.name) - 1, std::string::npos,
                         "/" + std::string(c.name)) == 0) {
          selected.push_back(&c);
        }
      }
    }
    const std::vector<Databases>& pairs =
        Pairs(std::min(kWorkers, std::max<size_t>(selected.size(), 1)));
    std::atomic<size_t> next{0};
    std::mutex mu;
    std::vector<std::future<void>> workers;
    for (const Databases& dbs : pairs) {
      workers.push_back(std::async(std::launch::async, [&, dbs] {
        for (size_t i = next++; i < selected.size(); i = next++) {
          Outcome o = RoundTrip(dbs, selected[i]->base, selected[i]->desired, selected[i]->data);
          std::lock_guard<std::mutex> lock(mu);
          outcomes_[selected[i]->name] = std::move(o);
        }
      }));
    }
    for (auto& w : workers) {
      w.get();
    }
  }

  static std::map<std::string, Outcome> outcomes_;
};
std::map<std::string, Outcome> CatalogRoundTrip::outcomes_;

TEST_P(CatalogRoundTrip, UpgradeReachesDesiredAndDowngradeRestoresBase) {
  const Case& c = GetParam();
  ASSERT_TRUE(outcomes_.count(c.name)) << "not run";
  const Outcome& m = outcomes_.at(c.name);
  for (const std::string& f : m.failures) {
    ADD_FAILURE() << f;
  }
  const std::string sql = Joined(m.up);
  for (const std::string& needle : c.up_contains) {
    EXPECT_TRUE(Contains(sql, needle)) << needle << "\n" << sql;
  }
  for (const std::string& needle : c.up_lacks) {
    EXPECT_FALSE(Contains(sql, needle)) << needle << "\n" << sql;
  }
  EXPECT_EQ(m.up.warnings.size(), c.up_warnings) << sql;
  const std::string down = Joined(m.down);
  for (const std::string& needle : c.down_contains) {
    EXPECT_TRUE(Contains(down, needle)) << needle << "\n" << down;
  }
}

// Every case also runs backwards (its downgrade), so "added" cases check
// removal too; their down_contains says how.
const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // --- extensions ---
      {"extension_added",
       "",
       "CREATE EXTENSION pgcrypto;",
       {"CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;"},
       {},
       {"DROP EXTENSION pgcrypto;"}},
      {"extension_moved",
       "CREATE SCHEMA ext; CREATE EXTENSION citext SCHEMA public;",
       "CREATE SCHEMA ext; CREATE EXTENSION citext SCHEMA ext;",
       {"ALTER EXTENSION citext SET SCHEMA ext;"}},
      {"extension_used_by_default",
       "",
       "CREATE EXTENSION \"uuid-ossp\"; CREATE TABLE t (id uuid DEFAULT uuid_generate_v4() PRIMARY "
       "KEY);",
       {"id uuid DEFAULT public.uuid_generate_v4() NOT NULL"}},
      // --- schemas ---
      {"schema_added",
       "",
       "CREATE SCHEMA app; CREATE TABLE app.t (id int); COMMENT ON SCHEMA app IS 'the app';",
       {"CREATE SCHEMA app;", "CREATE TABLE app.t", "COMMENT ON SCHEMA app IS 'the app';"}},
      // --- enums ---
      {"enum_added",
       "",
       "CREATE TYPE mood AS ENUM ('sad', 'ok', 'it''s great');"
       "CREATE TABLE t (m mood DEFAULT 'ok', ms mood[]);",
       {"CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'it''s great');",
        "m public.mood DEFAULT 'ok'::public.mood", "ms public.mood[]"}},
      {"enum_labels_added",
       "CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TABLE t (m mood DEFAULT 'a'); CREATE TYPE size "
       "AS ENUM ('m');",
       "CREATE TYPE mood AS ENUM ('a', 'b', 'c'); CREATE TABLE t (m mood DEFAULT 'a');"
       "CREATE TYPE size AS ENUM ('s', 'm', 'l');",
       {"ALTER TYPE public.mood ADD VALUE 'c' AFTER 'b';",
        "ALTER TYPE public.size ADD VALUE 's' BEFORE 'm';",
        "ALTER TYPE public.size ADD VALUE 'l' AFTER 'm';"},
       {"RENAME TO"},
       {"RENAME TO mood__old", "USING m::text::public.mood"},
       0,
       "INSERT INTO t VALUES ('a'), ('b');"},
      {"enum_label_removed",
       "CREATE TYPE mood AS ENUM ('a', 'b', 'c');"
       "CREATE TABLE t (m mood DEFAULT 'a', ms mood[], n int CHECK (n > 0));"
       "CREATE TABLE u (m mood);",
       "CREATE TYPE mood AS ENUM ('a', 'c');"
       "CREATE TABLE t (m mood DEFAULT 'a', ms mood[], n int CHECK (n > 0));"
       "CREATE TABLE u (m text);",
       {"ALTER TYPE public.mood RENAME TO mood__old;",
        "CREATE TYPE public.mood AS ENUM ('a', 'c');", "USING m::text::public.mood",
        "USING ms::text[]::public.mood[]", "DROP TYPE public.mood__old;",
        "ALTER TABLE public.u ALTER COLUMN m TYPE text USING m::text::text"},
       {},
       {},
       2,  // the enum, and u.m's type change
       "INSERT INTO t (m, ms) VALUES ('a', '{a,c}'), ('c', NULL); INSERT INTO u VALUES ('c');"},
      {"enum_labels_reordered",
       "CREATE TYPE mood AS ENUM ('a', 'b');",
       "CREATE TYPE mood AS ENUM ('b', 'a');",
       {"RENAME TO mood__old"},
       {},
       {},
       1},
      {"enum_new_label_used_at_once",
       "CREATE TYPE mood AS ENUM ('a'); CREATE TABLE t (m mood DEFAULT 'a');",
       "CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TABLE t (m mood DEFAULT 'b');",
       {"RENAME TO mood__old", "SET DEFAULT 'b'::public.mood"},
       {"ADD VALUE 'b'"}},
      {"enum_recreated_with_dependents",
       "CREATE TYPE mood AS ENUM ('a', 'b', 'c');"
       "CREATE TABLE t (m mood CHECK (m <> 'b'));"
       "CREATE INDEX ix_t_c ON t (m) WHERE m = 'c';"
       "CREATE FUNCTION is_a(x mood) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT x = 'a' "
       "$$;",
       "CREATE TYPE mood AS ENUM ('c', 'b', 'a');"
       "CREATE TABLE t (m mood CHECK (m <> 'b'));"
       "CREATE INDEX ix_t_c ON t (m) WHERE m = 'c';"
       "CREATE FUNCTION is_a(x mood) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT x = 'a' "
       "$$;",
       {"DROP FUNCTION public.is_a(public.mood);", "DROP INDEX public.ix_t_c;",
        "DROP CONSTRAINT t_m_check"},
       {},
       {},
       1,
       "INSERT INTO t VALUES ('a'), ('c');"},
      {"enum_removed",
       "CREATE TYPE mood AS ENUM ('a'); CREATE TABLE t (id int, m mood);",
       "CREATE TABLE t (id int);",
       {"ALTER TABLE public.t DROP COLUMN m;", "DROP TYPE public.mood;"},
       {},
       {},
       1},
      // --- sequences ---
      {"sequence_added",
       "",
       "CREATE SEQUENCE s AS integer START 10 INCREMENT 5 MINVALUE 10 MAXVALUE 1000 CACHE 3 CYCLE;",
       {"CREATE SEQUENCE public.s AS integer START WITH 10 INCREMENT BY 5 MINVALUE 10 MAXVALUE "
        "1000 CACHE 3 CYCLE;"},
       {},
       {"DROP SEQUENCE public.s;"}},
      {"sequence_changed",
       "CREATE SEQUENCE s;",
       "CREATE SEQUENCE s AS integer INCREMENT 2 MAXVALUE 500 CACHE 10 CYCLE;",
       {"ALTER SEQUENCE public.s AS integer INCREMENT BY 2 MAXVALUE 500 CACHE 10 CYCLE;"}},
      {"serial_table_added",
       "",
       "CREATE TABLE t (id serial PRIMARY KEY, big bigserial, name text);",
       {"CREATE SEQUENCE public.t_id_seq AS integer",
        "DEFAULT nextval('public.t_id_seq'::regclass) NOT NULL",
        "ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;"}},
      {"serial_table_removed",
       "CREATE TABLE t (id serial PRIMARY KEY, name text); CREATE TABLE keep (id int);",
       "CREATE TABLE keep (id int);",
       {"DROP TABLE public.t;"},
       {"DROP SEQUENCE"},
       {},
       1},
      {"serial_column_added",
       "CREATE TABLE t (name text);",
       "CREATE TABLE t (name text, id bigserial);",
       {"CREATE SEQUENCE public.t_id_seq",
        "ADD COLUMN id bigint DEFAULT nextval('public.t_id_seq'::regclass) NOT NULL",
        "OWNED BY public.t.id"},
       {},
       {},
       0,
       "INSERT INTO t VALUES ('x');"},
      {"sequence_owner_moved",
       "CREATE TABLE t (a int, b int); CREATE SEQUENCE s OWNED BY t.a;",
       "CREATE TABLE t (a int, b int); CREATE SEQUENCE s OWNED BY t.b;",
       {"ALTER SEQUENCE public.s OWNED BY NONE;", "ALTER SEQUENCE public.s OWNED BY public.t.b;"}},
      {"sequence_kept_when_its_column_goes",
       "CREATE TABLE t (a serial, b int);",
       "CREATE TABLE t (b int); CREATE SEQUENCE t_a_seq AS integer;",
       {"ALTER SEQUENCE public.t_a_seq OWNED BY NONE;", "DROP COLUMN a"},
       {},
       {},
       1},
      // --- tables ---
      {"table_added",
       "",
       "CREATE TABLE \"User Data\" (\"Order\" int NOT NULL, \"user\" text COLLATE \"C\", note text "
       "DEFAULT 'it''s',"
       " at timestamptz DEFAULT now());"
       "CREATE UNLOGGED TABLE scratch (id int);",
       {"CREATE TABLE public.\"User Data\" (\n    \"Order\" integer NOT NULL,\n    \"user\" text "
        "COLLATE \"C\",",
        "CREATE UNLOGGED TABLE public.scratch"}},
      {"table_removed",
       "CREATE TABLE parent (id int PRIMARY KEY);"
       "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));"
       "CREATE INDEX ix_child_parent ON child (parent_id);"
       "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
       "CREATE TRIGGER trg BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();"
       "COMMENT ON TABLE child IS 'children';",
       "",
       {"DROP TABLE public.child, public.parent;", "DROP FUNCTION public.touch();"},
       {"DROP INDEX", "DROP TRIGGER", "DROP CONSTRAINT"},
       {},
       2},
      {"table_renamed",
       "CREATE TABLE customers (id int);",
       "CREATE TABLE clients (id int);",
       {"-- WARNING: table public.customers is dropped while public.clients is added: if this is a "
        "rename, write "
        "ALTER TABLE public.customers RENAME TO clients instead"},
       {},
       {},
       1},
      {"table_logging_changed",
       "CREATE TABLE t (id int);",
       "CREATE UNLOGGED TABLE t (id int);",
       {"ALTER TABLE public.t SET UNLOGGED;"}},
      // --- columns ---
      {"column_added",
       "CREATE TABLE t (id int);",
       "CREATE TABLE t (id int, note text, flag boolean NOT NULL DEFAULT false);",
       {"ALTER TABLE public.t ADD COLUMN note text;",
        "ALTER TABLE public.t ADD COLUMN flag boolean DEFAULT false NOT NULL;"},
       {},
       {"-- WARNING: column public.t.note is dropped: its data is lost\nALTER TABLE public.t DROP "
        "COLUMN note;"},
       0,
       "INSERT INTO t VALUES (1);"},
      {"columns_removed_with_generated_dependent",
       "CREATE TABLE t (id int, a int, g int GENERATED ALWAYS AS (a * 2) STORED);",
       "CREATE TABLE t (id int);",
       {"ALTER TABLE public.t DROP COLUMN g;\n-- WARNING: column public.t.a is dropped"},
       {},
       {},
       2,
       "INSERT INTO t (id, a) VALUES (1, 2);"},
      {"column_renamed",
       "CREATE TABLE users (id int, phone text);",
       "CREATE TABLE users (id int, mobile text);",
       {"RENAME COLUMN phone TO mobile"},
       {},
       {},
       1},
      {"column_type_changed",
       "CREATE TABLE users (id int, phone varchar(20) DEFAULT '');",
       "CREATE TABLE users (id int, phone text DEFAULT 'none');",
       {"ALTER TABLE public.users ALTER COLUMN phone TYPE text USING phone::text;",
        "SET DEFAULT 'none'::text"},
       {},
       {},
       1,
       "INSERT INTO users VALUES (1, '555-1234');"},
      {"column_default_nullability_collation_changed",
       "CREATE TABLE t (a int DEFAULT 1, b int, c int DEFAULT 3, d int, e int NOT NULL, s text);",
       "CREATE TABLE t (a int DEFAULT 2, b int DEFAULT 5, c int, d int NOT NULL, e int, s text "
       "COLLATE \"C\");",
       {"ALTER COLUMN a SET DEFAULT 2;", "ALTER COLUMN b SET DEFAULT 5;",
        "ALTER COLUMN c DROP DEFAULT;", "ALTER COLUMN d SET NOT NULL;",
        "ALTER COLUMN e DROP NOT NULL;",
        "ALTER TABLE public.t ALTER COLUMN s TYPE text COLLATE \"C\";"}},
      {"column_identity_added_and_changed",
       "CREATE TABLE t1 (id int NOT NULL); CREATE TABLE t2 (id bigint GENERATED ALWAYS AS "
       "IDENTITY);",
       "CREATE TABLE t1 (id int GENERATED ALWAYS AS IDENTITY);"
       "CREATE TABLE t2 (id bigint GENERATED BY DEFAULT AS IDENTITY);",
       {"ALTER TABLE public.t1 ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;",
        "ALTER TABLE public.t2 ALTER COLUMN id SET GENERATED BY DEFAULT;"},
       {},
       {"ALTER TABLE public.t1 ALTER COLUMN id DROP IDENTITY;"}},
      {"column_identity_in_new_table",
       "",
       "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
       {"id bigint GENERATED ALWAYS AS IDENTITY NOT NULL"}},
      {"column_generated_added_and_made_plain",
       "CREATE TABLE t1 (a int); CREATE TABLE t2 (a int, g int GENERATED ALWAYS AS (a * 2) "
       "STORED);",
       "CREATE TABLE t1 (a int, twice int GENERATED ALWAYS AS (a * 2) STORED); CREATE TABLE t2 (a "
       "int, g int);",
       {"ALTER TABLE public.t1 ADD COLUMN twice integer GENERATED ALWAYS AS ((a * 2)) STORED;",
        "ALTER TABLE public.t2 ALTER COLUMN g DROP EXPRESSION;"}},
      {"column_generated_changed",
       "CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 2) STORED); CREATE INDEX ix_t_g ON t "
       "(g);"
       "COMMENT ON COLUMN t.g IS 'derived';",
       "CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 3) STORED); CREATE INDEX ix_t_g ON t "
       "(g);"
       "COMMENT ON COLUMN t.g IS 'derived';",
       {"DROP INDEX public.ix_t_g;", "ALTER TABLE public.t DROP COLUMN g;",
        "COMMENT ON COLUMN public.t.g IS 'derived';"},
       {},
       {},
       0,
       "INSERT INTO t (a) VALUES (1);"},
      // --- constraints ---
      {"primary_key_added",
       "CREATE TABLE t (id int);",
       "CREATE TABLE t (id int PRIMARY KEY);",
       {"ALTER COLUMN id SET NOT NULL;",
        "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);"}},
      {"primary_key_changed_with_foreign_key",
       "CREATE TABLE parent (id int, code int, CONSTRAINT parent_pkey PRIMARY KEY (id));"
       "CREATE TABLE child (parent_id int REFERENCES parent (id));",
       "CREATE TABLE parent (id int, code int, CONSTRAINT parent_pkey PRIMARY KEY (id) INCLUDE "
       "(code));"
       "CREATE TABLE child (parent_id int REFERENCES parent (id));",
       {"ALTER TABLE public.child DROP CONSTRAINT child_parent_id_fkey;",
        "ADD CONSTRAINT parent_pkey PRIMARY KEY (id) INCLUDE (code);",
        "ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES "
        "public.parent(id);"}},
      {"unique_and_exclusion_added",
       "CREATE TABLE t (a int, b int); CREATE TABLE booking (during tsrange);",
       "CREATE TABLE t (a int UNIQUE, b int, CONSTRAINT t_ab UNIQUE (a, b) DEFERRABLE INITIALLY "
       "DEFERRED);"
       "CREATE TABLE booking (during tsrange, EXCLUDE USING gist (during WITH &&));",
       {"ADD CONSTRAINT t_a_key UNIQUE (a);",
        "ADD CONSTRAINT t_ab UNIQUE (a, b) DEFERRABLE INITIALLY DEFERRED;",
        "ADD CONSTRAINT booking_during_excl EXCLUDE USING gist (during WITH &&);"},
       {},
       {"ALTER TABLE public.t DROP CONSTRAINT t_a_key;",
        "ALTER TABLE public.booking DROP CONSTRAINT booking_during_excl;"}},
      {"checks_changed_added_and_removed",
       "CREATE TABLE t (n int CONSTRAINT n_positive CHECK (n > 0), k int CHECK (k > 0), m int);",
       "CREATE TABLE t (n int CONSTRAINT n_positive CHECK (n >= 0), k int, m int CHECK (m < 10));",
       {"DROP CONSTRAINT n_positive;", "ADD CONSTRAINT n_positive CHECK ((n >= 0));",
        "DROP CONSTRAINT t_k_check;", "ADD CONSTRAINT t_m_check CHECK ((m < 10));"}},
      {"foreign_keys_added_and_changed",
       "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c1 (pid int);"
       "CREATE TABLE c2 (pid int REFERENCES p ON DELETE CASCADE);",
       "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c1 (pid int REFERENCES p ON DELETE "
       "CASCADE ON UPDATE SET NULL);"
       "CREATE TABLE c2 (pid int REFERENCES p ON DELETE SET NULL);",
       {"ADD CONSTRAINT c1_pid_fkey FOREIGN KEY (pid) REFERENCES public.p(id) ON UPDATE SET NULL "
        "ON DELETE CASCADE;",
        "ALTER TABLE public.c2 DROP CONSTRAINT c2_pid_fkey;",
        "ADD CONSTRAINT c2_pid_fkey FOREIGN KEY (pid) REFERENCES public.p(id) ON DELETE SET NULL;"},
       {},
       {"ALTER TABLE public.c1 DROP CONSTRAINT c1_pid_fkey;"}},
      {"foreign_key_to_dropped_table",
       "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (pid int REFERENCES p);",
       "CREATE TABLE c (pid int);",
       {"ALTER TABLE public.c DROP CONSTRAINT c_pid_fkey;", "DROP TABLE public.p;"},
       {},
       {},
       1},
      // --- indexes ---
      {"indexes_added",
       "CREATE TABLE t (a int, b text);",
       "CREATE TABLE t (a int, b text);"
       "CREATE INDEX ix_t_a ON t (a);"
       "CREATE UNIQUE INDEX ux_t_b ON t (lower(b)) WHERE a > 0;"
       "CREATE INDEX \"Ix Desc\" ON t (a DESC NULLS LAST, b);",
       {"CREATE INDEX ix_t_a ON public.t USING btree (a);",
        "CREATE UNIQUE INDEX ux_t_b ON public.t USING btree (lower(b)) WHERE (a > 0);",
        "CREATE INDEX \"Ix Desc\" ON public.t USING btree (a DESC NULLS LAST, b);"},
       {},
       {"DROP INDEX public.ix_t_a;", "DROP INDEX public.\"Ix Desc\";"}},
      {"index_changed",
       "CREATE TABLE t (a int, b int); CREATE INDEX ix_t ON t (a);",
       "CREATE TABLE t (a int, b int); CREATE INDEX ix_t ON t (a, b);",
       {"DROP INDEX public.ix_t;", "CREATE INDEX ix_t ON public.t USING btree (a, b);"}},
      {"unique_index_behind_foreign_key_changed",
       "CREATE TABLE p (id int, code int); CREATE UNIQUE INDEX ux_p_code ON p (code);"
       "CREATE TABLE c (code int REFERENCES p (code));",
       "CREATE TABLE p (id int, code int); CREATE UNIQUE INDEX ux_p_code ON p (code) INCLUDE (id);"
       "CREATE TABLE c (code int REFERENCES p (code));",
       {"ALTER TABLE public.c DROP CONSTRAINT c_code_fkey;", "DROP INDEX public.ux_p_code;"}},
      // --- functions ---
      {"function_added",
       "",
       "CREATE FUNCTION add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE AS $$ "
       "SELECT a + b $$;"
       "CREATE FUNCTION add(a text, b text) RETURNS text LANGUAGE sql AS $$ SELECT a || b $$;"
       "CREATE PROCEDURE noop() LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;",
       {"CREATE OR REPLACE FUNCTION public.add(a integer, b integer DEFAULT 1)",
        "CREATE OR REPLACE FUNCTION public.add(a text, b text)",
        "CREATE OR REPLACE PROCEDURE public.noop()"},
       {},
       {"DROP FUNCTION public.add(integer, integer);", "DROP FUNCTION public.add(text, text);",
        "DROP PROCEDURE public.noop();"}},
      {"function_body_and_argument_changed",
       "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x + 1 $$;"
       "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
       "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql STABLE AS $$ SELECT x + 2 $$;"
       "CREATE FUNCTION g(y int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
       {"CREATE OR REPLACE FUNCTION public.f(x integer)", "DROP FUNCTION public.g(integer);",
        "CREATE OR REPLACE FUNCTION public.g(y integer)"},
       {"DROP FUNCTION public.f("}},
      {"function_result_changed_with_dependents",
       "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x $$;"
       "CREATE TABLE t (a int DEFAULT f(1), b int CHECK (f(b) > 0));"
       "CREATE INDEX ix_t_f ON t (f(a));",
       "CREATE FUNCTION f(x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT x::bigint $$;"
       "CREATE TABLE t (a int DEFAULT f(1), b int CHECK (f(b) > 0));"
       "CREATE INDEX ix_t_f ON t (f(a));",
       {"ALTER TABLE public.t ALTER COLUMN a DROP DEFAULT;", "DROP FUNCTION public.f(integer);",
        "DROP INDEX public.ix_t_f;", "DROP CONSTRAINT t_b_check;", "SET DEFAULT public.f(1);"}},
      {"function_used_by_new_table_default",
       "",
       "CREATE FUNCTION next_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN "
       "md5(random()::text); END $$;"
       "CREATE TABLE t (code text DEFAULT next_code());"
       "CREATE FUNCTION t_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM public.t "
       "$$;"
       "CREATE FUNCTION all_t() RETURNS SETOF t LANGUAGE sql AS $$ SELECT * FROM public.t $$;",
       {"CREATE OR REPLACE FUNCTION public.next_code()"}},
      // --- triggers ---
      {"triggers_added_and_changed",
       "CREATE TABLE t (a int, at timestamptz);"
       "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at = now(); "
       "RETURN NEW; END $$;"
       "CREATE TRIGGER trg_old BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();",
       "CREATE TABLE t (a int, at timestamptz);"
       "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at = now(); "
       "RETURN NEW; END $$;"
       "CREATE TRIGGER trg_old BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();"
       "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW WHEN (OLD.a IS DISTINCT FROM NEW.a) "
       "EXECUTE FUNCTION touch();",
       {"CREATE TRIGGER trg BEFORE UPDATE ON public.t FOR EACH ROW WHEN ((old.a IS DISTINCT FROM "
        "new.a)) EXECUTE "
        "FUNCTION public.touch();",
        "DROP TRIGGER trg_old ON public.t;",
        "CREATE TRIGGER trg_old BEFORE INSERT OR UPDATE ON public.t"},
       {},
       {"DROP TRIGGER trg ON public.t;"}},
      {"trigger_and_function_removed",
       "CREATE TABLE t (a int);"
       "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
       "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();",
       "CREATE TABLE t (a int);",
       {"DROP TRIGGER trg ON public.t;", "DROP FUNCTION public.touch();"}},
      // --- comments ---
      {"comments_added",
       "CREATE TYPE mood AS ENUM ('a'); CREATE SEQUENCE s; CREATE TABLE t (a int CONSTRAINT "
       "t_a_check CHECK (a > 0));"
       "CREATE INDEX ix_t ON t (a); CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ "
       "BEGIN RETURN NEW; END $$;"
       "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();",
       "CREATE TYPE mood AS ENUM ('a'); CREATE SEQUENCE s; CREATE TABLE t (a int CONSTRAINT "
       "t_a_check CHECK (a > 0));"
       "CREATE INDEX ix_t ON t (a); CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ "
       "BEGIN RETURN NEW; END $$;"
       "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();"
       "COMMENT ON TYPE mood IS 'feelings'; COMMENT ON SEQUENCE s IS 'numbers'; COMMENT ON TABLE t "
       "IS 'it''s t';"
       "COMMENT ON COLUMN t.a IS 'a'; COMMENT ON CONSTRAINT t_a_check ON t IS 'positive';"
       "COMMENT ON INDEX ix_t IS 'fast'; COMMENT ON FUNCTION f() IS 'fn'; COMMENT ON TRIGGER trg "
       "ON t IS 'tr';",
       {"COMMENT ON TYPE public.mood IS 'feelings';", "COMMENT ON SEQUENCE public.s IS 'numbers';",
        "COMMENT ON TABLE public.t IS 'it''s t';", "COMMENT ON COLUMN public.t.a IS 'a';",
        "COMMENT ON CONSTRAINT t_a_check ON public.t IS 'positive';",
        "COMMENT ON INDEX public.ix_t IS 'fast';", "COMMENT ON FUNCTION public.f() IS 'fn';",
        "COMMENT ON TRIGGER trg ON public.t IS 'tr';"}},
      {"comments_changed",
       "CREATE TABLE t (a int); COMMENT ON TABLE t IS 'old'; COMMENT ON COLUMN t.a IS 'gone';",
       "CREATE TABLE t (a int); COMMENT ON TABLE t IS 'new';",
       {"COMMENT ON TABLE public.t IS 'new';", "COMMENT ON COLUMN public.t.a IS NULL;"}},
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Catalog, CatalogRoundTrip, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

// The bundled OCR identity schema: its upgrade sections (development
// environment), cumulated revision by revision.
std::vector<std::string> BundledSchemaSteps() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(SourceDir()) / "migrations" / "versions")) {
    if (e.path().extension() == ".sql") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> steps;
  std::string schema;
  for (const fs::path& path : files) {
    Result<MigrationFile> file = ParseMigrationFile(path.string(), ReadFile(path.string()));
    EXPECT_TRUE(file.ok()) << file.status().message();
    if (!file.ok()) {
      return {};
    }
    for (const Section* section : file->SectionsFor(Direction::kUpgrade, "development")) {
      for (const SqlStatement& st : section->statements) {
        schema += st.text + ";\n";
      }
    }
    steps.push_back(schema);
  }
  return steps;
}

TEST(CatalogBundledSchema, FromEmptyToFullAndBack) {
  const std::vector<std::string> steps = BundledSchemaSteps();
  ASSERT_GE(steps.size(), 5u);
  const std::string sql = Joined(CheckedRoundTrip("", steps.back()).up);
  for (const char* needle :
       {"CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA public;",
        "CREATE TABLE public.users (", "id uuid DEFAULT public.uuid_generate_v4() NOT NULL",
        "ADD CONSTRAINT users_email_key UNIQUE (email);",
        "REFERENCES public.users(id) ON DELETE SET NULL",
        "CREATE INDEX idx_users_email ON public.users",
        "CREATE OR REPLACE FUNCTION public.update_updated_at_column()",
        "CREATE TRIGGER trg_users_updated_at BEFORE UPDATE ON public.users"}) {
    EXPECT_TRUE(Contains(sql, needle)) << needle << "\n" << sql;
  }
  // Creation order: tables before the keys, the keys before the foreign
  // keys, the function before its triggers.
  EXPECT_LT(sql.find("CREATE TABLE public.users ("), sql.find("ADD CONSTRAINT users_pkey"));
  EXPECT_LT(sql.find("ADD CONSTRAINT users_pkey"), sql.find("FOREIGN KEY"));
  EXPECT_LT(sql.find("FUNCTION public.update_updated_at_column"), sql.find("CREATE TRIGGER"));
}

TEST(CatalogBundledSchema, EveryRevisionStepGoesUpAndDown) {
  const std::vector<std::string> steps = BundledSchemaSteps();
  ASSERT_GE(steps.size(), 5u);
  int changed = 0;
  for (size_t i = 1; i < steps.size(); ++i) {
    SCOPED_TRACE("revision step " + std::to_string(i) + " -> " + std::to_string(i + 1));
    // A revision that only updates rows (0004) leaves the catalog as it is.
    if (!CheckedRoundTrip(steps[i - 1], steps[i], /*may_be_unchanged=*/true).unchanged) {
      ++changed;
    }
  }
  EXPECT_GE(changed, 3);
}

TEST(CatalogReader, LeavesOutSchemagateTablesAndExtensionObjects) {
  const std::string url = Dbs().a;
  ASSERT_TRUE(Rebuild(url, "schema.sql",
                      "CREATE EXTENSION \"uuid-ossp\";"
                      "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, "
                      "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));"
                      "CREATE TABLE schemagate_log (id bigserial PRIMARY KEY, revision text);"
                      "CREATE INDEX ix_log ON schemagate_log (revision);"
                      "CREATE TABLE users (id uuid DEFAULT uuid_generate_v4());")
                  .ok());
  const Catalog catalog = MustRead(url);
  std::vector<std::string> keys;
  for (const auto& [key, o] : catalog.objects) {
    keys.push_back(key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"column public.users.id", "extension \"uuid-ossp\"",
                                            "table public.users"}));

  // Without exclusions, the tables are ordinary tables.
  Result<Catalog> all = ReadCatalog(url, {});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_NE(all->Find("table", "public.schemagate_log"), nullptr);
  EXPECT_NE(all->Find("sequence", "public.schemagate_log_id_seq"), nullptr);
  EXPECT_EQ(all->Find("sequence", "public.schemagate_log_id_seq")->attributes.at("owned_by"),
            "public.schemagate_log.id");
}

TEST(CatalogReader, RecordsWhatEachObjectUses) {
  const std::string url = Dbs().a;
  ASSERT_TRUE(
      Rebuild(
          url, "schema.sql",
          "CREATE TYPE mood AS ENUM ('a');"
          "CREATE FUNCTION code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;"
          "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
          "CREATE TABLE p (id int PRIMARY KEY, c text DEFAULT code(), m mood);"
          "CREATE TABLE c (pid int REFERENCES p);"
          "CREATE TRIGGER trg BEFORE UPDATE ON p FOR EACH ROW EXECUTE FUNCTION touch();")
          .ok());
  const Catalog catalog = MustRead(url);
  auto uses = [&](const std::string& kind, const std::string& name, const std::string& key) {
    const CatalogObject* o = catalog.Find(kind, name);
    return o != nullptr && o->depends_on.count(key) > 0;
  };
  EXPECT_TRUE(uses("column", "public.p.c", "function public.code()"));
  EXPECT_TRUE(uses("column", "public.p.m", "enum public.mood"));
  EXPECT_TRUE(uses("constraint", "public.c.c_pid_fkey", "constraint public.p.p_pkey"));
  EXPECT_TRUE(uses("trigger", "public.p.trg", "function public.touch()"));
  EXPECT_EQ(catalog.Find("column", "public.p.c")->position, 2);
}

TEST(CatalogReader, ConnectionErrorNamesTheTargetWithoutThePassword) {
  const std::string url = PgServer::Shared().Url("no_such_database_for_catalog");
  CatalogReadOptions options;
  options.connect_timeout = std::chrono::milliseconds(2000);
  Result<Catalog> catalog = ReadCatalog(url, options);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), Code::kRuntime);
  EXPECT_TRUE(Contains(catalog.status().message(), "127.0.0.1")) << catalog.status().message();
  EXPECT_TRUE(Contains(catalog.status().message(), "no_such_database_for_catalog"))
      << catalog.status().message();
  EXPECT_FALSE(Contains(catalog.status().message(), PgServer::kPlantedPassword))
      << catalog.status().message();
}

TEST(CatalogExecuteSqlScript, FailureNamesSourceLineAndSqlstateAndRollsBack) {
  const std::string url = Dbs().a;
  ASSERT_TRUE(ExecuteSqlScript(url, "reset", kReset).ok());
  const Status s = ExecuteSqlScript(url, "schema.sql",
                                    "CREATE TABLE kept_out (id int);\n"
                                    "\n"
                                    "-- the next one fails\n"
                                    "INSERT INTO missing VALUES (1);\n");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "schema.sql:4: ")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "missing")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "(SQLSTATE 42P01)")) << s.message();
  EXPECT_EQ(s.location().file, "schema.sql");
  EXPECT_EQ(s.location().line, 4);
  EXPECT_EQ(s.location().sqlstate, "42P01");
  EXPECT_EQ(
      PgServer::Shared().Query(url, "SELECT count(*) FROM pg_class WHERE relname = 'kept_out'"),
      "0");
}

TEST(CatalogExecuteSqlScript, RunsStatementsThatCannotRunInATransaction) {
  const std::string url = Dbs().a;
  ASSERT_TRUE(ExecuteSqlScript(url, "reset", kReset).ok());
  const Status s = ExecuteSqlScript(url, "schema.sql",
                                    "CREATE TABLE t (a int);\n"
                                    "CREATE INDEX CONCURRENTLY ix_t_a ON t (a);\n"
                                    "INSERT INTO t VALUES (1);\n");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(PgServer::Shared().Query(url, "SELECT count(*) FROM t"), "1");
  EXPECT_NE(MustRead(url).Find("index", "public.ix_t_a"), nullptr);

  const Status meta = ExecuteSqlScript(url, "schema.sql", "SELECT 1;\n\\i other.sql\n");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.code(), Code::kValidation);
  EXPECT_TRUE(Contains(meta.message(), "schema.sql:2: ")) << meta.message();
}

}  // namespace
}  // namespace schemagate::testing
