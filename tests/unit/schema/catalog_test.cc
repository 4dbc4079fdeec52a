// The catalog model without a database: quoting, names, differences, and
// the SQL generated from hand-built catalogs. tests/integration/catalog_test.cc
// runs the same generator against real PostgreSQL catalogs.
#include "schema/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace schemagate {
namespace {

CatalogObject Obj(std::string kind, std::string name,
                  std::map<std::string, std::string> attributes = {}) {
  CatalogObject o;
  o.kind = std::move(kind);
  o.name = std::move(name);
  o.attributes = std::move(attributes);
  return o;
}

CatalogObject Column(const std::string& name, const std::string& type, int position,
                     bool nullable = true) {
  CatalogObject o =
      Obj("column", name, {{"type", type}, {"nullable", nullable ? "true" : "false"}});
  o.position = position;
  return o;
}

std::string Joined(const GeneratedSql& sql) {
  std::string out;
  for (const std::string& s : sql.statements) {
    out += s + "\n";
  }
  return out;
}

// Index of the first statement containing `needle`, or -1.
int IndexOf(const GeneratedSql& sql, const std::string& needle) {
  for (size_t i = 0; i < sql.statements.size(); ++i) {
    if (sql.statements[i].find(needle) != std::string::npos) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// An enum public.mood with `labels`, and a table public.t whose column m is
// of that type with the default 'ok'.
Catalog MoodTable(const std::string& labels) {
  Catalog c;
  c.Add(Obj("enum", "public.mood", {{"labels", labels}}));
  c.Add(Obj("table", "public.t"));
  CatalogObject m = Column("public.t.m", "public.mood", 1);
  m.attributes["default"] = "'ok'::public.mood";
  c.Add(m);
  return c;
}

TEST(CatalogQuoteIdentifier, QuotesOnlyWhereNeeded) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"users", "users"},
      {"_private", "_private"},
      {"a1$b", "a1$b"},
      {"Users", "\"Users\""},
      {"my table", "\"my table\""},
      {"1abc", "\"1abc\""},
      {"uuid-ossp", "\"uuid-ossp\""},
      {"user", "\"user\""},
      {"order", "\"order\""},
      {"timestamp", "\"timestamp\""},
      {"name", "name"},
      {"status", "status"},
      {"say\"hi", "\"say\"\"hi\""},
      {"", "\"\""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(QuoteIdentifier(c.in), c.out) << c.in;
  }
}

TEST(CatalogQuoteLiteral, DoublesQuotes) {
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteLiteral(""), "''");
  EXPECT_EQ(QuoteLiteral("a\\b"), "'a\\b'");
}

TEST(CatalogSplitQualifiedName, UnquotesPartsAndStopsAtArguments) {
  struct Case {
    const char* in;
    std::vector<std::string> parts;
  } cases[] = {
      {"public.users", {"public", "users"}},
      {"public.\"My Table\".id", {"public", "My Table", "id"}},
      {"\"a.b\".\"c\"\"d\"", {"a.b", "c\"d"}},
      {"public.f(integer, public.mood)", {"public", "f"}},
      {"\"f(x)\".g()", {"f(x)", "g"}},
      {"solo", {"solo"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SplitQualifiedName(c.in), c.parts) << c.in;
  }
}

TEST(CatalogDiff, EqualCatalogsHaveNoDifferences) {
  Catalog a;
  a.Add(Obj("table", "public.users"));
  a.Add(Column("public.users.id", "uuid", 1, false));
  EXPECT_TRUE(DiffCatalogs(a, a).empty());
  EXPECT_TRUE(DiffCatalogs(Catalog{}, Catalog{}).empty());
}

TEST(CatalogDiff, ReportsAddedRemovedAndChangedAttributesInKeyOrder) {
  Catalog before;
  before.Add(Obj("table", "public.users"));
  before.Add(Column("public.users.phone", "character varying(20)", 2));
  before.Add(
      Obj("index", "public.ix_users_phone",
          {{"table", "public.users"},
           {"definition", "CREATE INDEX ix_users_phone ON public.users USING btree (phone)"}}));
  Catalog after;
  after.Add(Obj("table", "public.users"));
  after.Add(Column("public.users.phone", "text", 2));
  after.Add(Column("public.users.email", "text", 3, false));

  const std::vector<CatalogDifference> diff = DiffCatalogs(before, after);
  ASSERT_EQ(diff.size(), 3u);
  // "column public.users.email" < "column public.users.phone" < "index ..."
  EXPECT_EQ(diff[0].kind, "column");
  EXPECT_EQ(diff[0].name, "public.users.email");
  EXPECT_EQ(diff[0].attribute, "");
  EXPECT_EQ(diff[0].before, "");
  EXPECT_EQ(diff[0].after, "text");
  EXPECT_EQ(diff[1].name, "public.users.phone");
  EXPECT_EQ(diff[1].attribute, "type");
  EXPECT_EQ(diff[1].before, "character varying(20)");
  EXPECT_EQ(diff[1].after, "text");
  EXPECT_EQ(diff[2].kind, "index");
  EXPECT_EQ(diff[2].attribute, "");
  EXPECT_EQ(diff[2].after, "");
  EXPECT_FALSE(diff[2].before.empty());

  EXPECT_EQ(FormatDifference(diff[0]), "column public.users.email: added (text)");
  EXPECT_EQ(FormatDifference(diff[1]),
            "column public.users.phone: type character varying(20) -> text");
  EXPECT_EQ(FormatDifference(diff[2]), "index public.ix_users_phone: removed");
}

TEST(CatalogDiff, AbsentAndEmptyAttributesAreEqualAndHintsAreIgnored) {
  Catalog a;
  CatalogObject col = Column("public.t.c", "integer", 1);
  col.attributes["comment"] = "";
  col.depends_on.insert("function public.f()");
  a.Add(col);
  Catalog b;
  CatalogObject other = Column("public.t.c", "integer", 7);
  b.Add(other);
  EXPECT_TRUE(DiffCatalogs(a, b).empty());

  b.objects["column public.t.c"].attributes["comment"] = "hello";
  const auto diff = DiffCatalogs(a, b);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(FormatDifference(diff[0]), "column public.t.c: comment (none) -> hello");
}

TEST(CatalogFormatDifference, ShowsLongValuesAroundTheirFirstDifference) {
  CatalogDifference d{
      "function", "public.f()", "definition",
      "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function$ "
      "SELECT 1 + 1 + 1 + 1 $function$",
      "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function$ "
      "SELECT 1 + 1 + 2 + 1 $function$"};
  const std::string line = FormatDifference(d);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_TRUE(Contains(line, "1 + 1 + 1 + 1")) << line;
  EXPECT_TRUE(Contains(line, "1 + 1 + 2 + 1")) << line;
  EXPECT_TRUE(Contains(line, "function public.f(): definition ...")) << line;
  EXPECT_LT(line.size(), 200u);
}

TEST(CatalogGenerate, EqualCatalogsNeedNoStatements) {
  Catalog a;
  a.Add(Obj("table", "public.users"));
  a.Add(Column("public.users.id", "uuid", 1, false));
  const GeneratedSql sql = GenerateMigrationSql(a, a);
  EXPECT_TRUE(sql.statements.empty()) << Joined(sql);
  EXPECT_TRUE(sql.warnings.empty());
}

TEST(CatalogGenerate, ColumnRenameIsDropAndAddWithAWarning) {
  Catalog before;
  before.Add(Obj("table", "public.users"));
  before.Add(Column("public.users.id", "integer", 1, false));
  before.Add(Column("public.users.phone", "character varying(20)", 2));
  Catalog after;
  after.Add(Obj("table", "public.users"));
  after.Add(Column("public.users.id", "integer", 1, false));
  after.Add(Column("public.users.mobile", "character varying(20)", 2));

  const GeneratedSql sql = GenerateMigrationSql(before, after);
  ASSERT_EQ(sql.warnings.size(), 1u) << Joined(sql);
  EXPECT_TRUE(Contains(sql.warnings[0], "public.users.phone")) << sql.warnings[0];
  EXPECT_TRUE(Contains(sql.warnings[0], "rename")) << sql.warnings[0];
  EXPECT_TRUE(Contains(sql.warnings[0], "ALTER TABLE public.users RENAME COLUMN phone TO mobile"))
      << sql.warnings[0];
  EXPECT_TRUE(Contains(sql.warnings[0], "data is lost")) << sql.warnings[0];

  ASSERT_EQ(sql.statements.size(), 2u) << Joined(sql);
  EXPECT_EQ(sql.statements[0],
            "-- WARNING: " + sql.warnings[0] + "\nALTER TABLE public.users DROP COLUMN phone;");
  EXPECT_EQ(sql.statements[1], "ALTER TABLE public.users ADD COLUMN mobile character varying(20);");
}

TEST(CatalogGenerate, TableRenameIsDropAndCreateWithAWarning) {
  Catalog before;
  before.Add(Obj("table", "public.customers"));
  before.Add(Column("public.customers.id", "integer", 1, false));
  Catalog after;
  after.Add(Obj("table", "public.clients"));
  after.Add(Column("public.clients.id", "integer", 1, false));

  const GeneratedSql sql = GenerateMigrationSql(before, after);
  ASSERT_EQ(sql.warnings.size(), 1u) << Joined(sql);
  EXPECT_TRUE(Contains(sql.warnings[0], "ALTER TABLE public.customers RENAME TO clients"))
      << sql.warnings[0];
  ASSERT_EQ(sql.statements.size(), 2u) << Joined(sql);
  EXPECT_TRUE(Contains(sql.statements[0], "-- WARNING: table public.customers is dropped"));
  EXPECT_TRUE(Contains(sql.statements[0], "\nDROP TABLE public.customers;"));
  EXPECT_EQ(sql.statements[1], "CREATE TABLE public.clients (\n    id integer NOT NULL\n);");
}

TEST(CatalogGenerate, DroppedColumnWithoutCandidateWarnsOfDataLossOnly) {
  Catalog before;
  before.Add(Obj("table", "public.t"));
  before.Add(Column("public.t.a", "integer", 1));
  before.Add(Column("public.t.b", "integer", 2));
  Catalog after;
  after.Add(Obj("table", "public.t"));
  after.Add(Column("public.t.a", "integer", 1));
  const GeneratedSql sql = GenerateMigrationSql(before, after);
  ASSERT_EQ(sql.warnings.size(), 1u);
  EXPECT_EQ(sql.warnings[0], "column public.t.b is dropped: its data is lost");
}

TEST(CatalogGenerate, DroppingATableDropsNothingOfItSeparately) {
  Catalog before;
  before.Add(Obj("table", "public.t"));
  before.Add(Column("public.t.id", "integer", 1, false));
  before.Add(Obj("constraint", "public.t.t_pkey",
                 {{"type", "primary key"}, {"definition", "PRIMARY KEY (id)"}}));
  before.Add(Obj(
      "index", "public.ix_t",
      {{"table", "public.t"}, {"definition", "CREATE INDEX ix_t ON public.t USING btree (id)"}}));
  before.Add(Obj(
      "trigger", "public.t.trg",
      {{"definition",
        "CREATE TRIGGER trg BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()"}}));
  const GeneratedSql sql = GenerateMigrationSql(before, Catalog{});
  ASSERT_EQ(sql.statements.size(), 1u) << Joined(sql);
  EXPECT_TRUE(Contains(sql.statements[0], "DROP TABLE public.t;"));
}

TEST(CatalogGenerate, CreatesInDependencyOrder) {
  Catalog after;
  after.Add(Obj("extension", "\"uuid-ossp\"", {{"schema", "public"}}));
  after.Add(Obj("enum", "public.state", {{"labels", "'new', 'done'"}}));
  after.Add(Obj("table", "public.parent"));
  after.Add(Column("public.parent.id", "uuid", 1, false));
  after.Add(Obj("table", "public.child"));
  after.Add(Column("public.child.parent_id", "uuid", 1));
  after.Add(Column("public.child.state", "public.state", 2));
  after.Add(Obj("constraint", "public.parent.parent_pkey",
                {{"type", "primary key"}, {"definition", "PRIMARY KEY (id)"}}));
  after.Add(Obj("constraint", "public.child.child_parent_id_fkey",
                {{"type", "foreign key"},
                 {"definition", "FOREIGN KEY (parent_id) REFERENCES public.parent(id)"}}));
  after.Add(Obj("constraint", "public.child.child_state_check",
                {{"type", "check"}, {"definition", "CHECK ((state <> 'done'::public.state))"}}));
  after.Add(Obj(
      "index", "public.ix_child_parent",
      {{"table", "public.child"},
       {"definition", "CREATE INDEX ix_child_parent ON public.child USING btree (parent_id)"}}));
  after.Add(Obj("function", "public.touch()",
                {{"kind", "function"},
                 {"returns", "trigger"},
                 {"definition",
                  "CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE "
                  "plpgsql\nAS $function$BEGIN RETURN NEW; END$function$"}}));
  after.Add(Obj("trigger", "public.child.trg_touch",
                {{"definition",
                  "CREATE TRIGGER trg_touch BEFORE UPDATE ON public.child FOR EACH ROW EXECUTE "
                  "FUNCTION public.touch()"},
                 {"comment", "keeps it fresh"}}));

  const GeneratedSql sql = GenerateMigrationSql(Catalog{}, after);
  const std::vector<std::string> order = {
      "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA public;",
      "CREATE TYPE public.state AS ENUM ('new', 'done');",
      "CREATE TABLE public.child",
      "CREATE TABLE public.parent",
      "CREATE OR REPLACE FUNCTION public.touch()",
      "ADD CONSTRAINT parent_pkey PRIMARY KEY (id);",
      "ADD CONSTRAINT child_state_check CHECK",
      "CREATE INDEX ix_child_parent",
      "ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY",
      "CREATE TRIGGER trg_touch",
      "COMMENT ON TRIGGER trg_touch ON public.child IS 'keeps it fresh';",
  };
  int last = -1;
  for (const std::string& needle : order) {
    const int at = IndexOf(sql, needle);
    ASSERT_GE(at, 0) << needle << "\n" << Joined(sql);
    EXPECT_GT(at, last) << needle << "\n" << Joined(sql);
    last = at;
  }
  EXPECT_EQ(sql.statements.size(), order.size()) << Joined(sql);
  for (const std::string& s : sql.statements) {
    EXPECT_EQ(s.back(), ';') << s;
  }
  // Everything again, the other way round: dropping the tables takes their
  // parts along; shared objects go last.
  const GeneratedSql down = GenerateMigrationSql(after, Catalog{});
  EXPECT_EQ(Joined(down),
            "-- WARNING: table public.child is dropped: its data is lost\n"
            "-- WARNING: table public.parent is dropped: its data is lost\n"
            "DROP TABLE public.child, public.parent;\n"
            "DROP FUNCTION public.touch();\n"
            "DROP TYPE public.state;\n"
            "DROP EXTENSION \"uuid-ossp\";\n");
}

TEST(CatalogGenerate, OutputIsDeterministic) {
  Catalog a, b;
  for (int i = 0; i < 20; ++i) {
    const std::string t = "public.t" + std::to_string(i);
    a.Add(Obj("table", t));
    a.Add(Column(t + ".id", "integer", 1));
    b.Add(Obj("table", t));
    b.Add(Column(t + ".id", i % 2 ? "bigint" : "integer", 1));
    b.Add(Column(t + ".note", "text", 2));
  }
  const std::string first = Joined(GenerateMigrationSql(a, b));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Joined(GenerateMigrationSql(a, b)), first);
  }
}

TEST(CatalogGenerate, EnumLabelsAddedInOrderBecomeAddValue) {
  Catalog before;
  before.Add(Obj("enum", "public.mood", {{"labels", "'ok', 'happy'"}}));
  Catalog after;
  after.Add(
      Obj("enum", "public.mood", {{"labels", "'sad', 'ok', 'fine', 'happy', 'it''s great'"}}));
  const GeneratedSql sql = GenerateMigrationSql(before, after);
  EXPECT_EQ(Joined(sql),
            "ALTER TYPE public.mood ADD VALUE 'sad' BEFORE 'ok';\n"
            "ALTER TYPE public.mood ADD VALUE 'fine' AFTER 'ok';\n"
            "ALTER TYPE public.mood ADD VALUE 'it''s great' AFTER 'happy';\n");
  EXPECT_TRUE(sql.warnings.empty());
}

TEST(CatalogGenerate, EnumLosingALabelIsRecreatedWithAWarning) {
  const Catalog before = MoodTable("'sad', 'ok'");
  Catalog after = before;
  after.objects["enum public.mood"].attributes["labels"] = "'ok'";

  const GeneratedSql sql = GenerateMigrationSql(before, after);
  ASSERT_EQ(sql.warnings.size(), 1u) << Joined(sql);
  EXPECT_TRUE(Contains(sql.warnings[0], "enum public.mood loses or reorders labels"))
      << sql.warnings[0];
  EXPECT_EQ(Joined(sql),
            "-- WARNING: " + sql.warnings[0] + "\n" +
                "ALTER TYPE public.mood RENAME TO mood__old;\n"
                "CREATE TYPE public.mood AS ENUM ('ok');\n"
                "ALTER TABLE public.t ALTER COLUMN m DROP DEFAULT;\n"
                "ALTER TABLE public.t ALTER COLUMN m TYPE public.mood USING m::text::public.mood;\n"
                "ALTER TABLE public.t ALTER COLUMN m SET DEFAULT 'ok'::public.mood;\n"
                "DROP TYPE public.mood__old;\n");
}

TEST(CatalogGenerate, FunctionBodyChangeIsCreateOrReplace) {
  auto fn = [](const std::string& body, const std::string& returns) {
    return Obj("function", "public.f()",
               {{"kind", "function"},
                {"returns", returns},
                {"arguments", ""},
                {"definition", "CREATE OR REPLACE FUNCTION public.f()\n RETURNS " + returns +
                                   "\n LANGUAGE sql\nAS $function$ " + body + " $function$"}});
  };
  Catalog before;
  before.Add(fn("SELECT 1", "integer"));
  Catalog after;
  after.Add(fn("SELECT 2", "integer"));
  const GeneratedSql replace = GenerateMigrationSql(before, after);
  ASSERT_EQ(replace.statements.size(), 1u) << Joined(replace);
  EXPECT_TRUE(Contains(replace.statements[0], "CREATE OR REPLACE FUNCTION public.f()"));

  // A new result type cannot be replaced in place: drop, create, and take
  // the trigger that uses it along.
  Catalog before2 = before;
  Catalog after2;
  after2.Add(fn("SELECT 2", "bigint"));
  before2.Add(Obj("table", "public.t"));
  after2.Add(Obj("table", "public.t"));
  const CatalogObject trg = Obj(
      "trigger", "public.t.trg",
      {{"definition",
        "CREATE TRIGGER trg AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()"}});
  before2.Add(trg);
  after2.Add(trg);
  const GeneratedSql recreate = GenerateMigrationSql(before2, after2);
  const int drop_trigger = IndexOf(recreate, "DROP TRIGGER trg ON public.t;");
  const int drop_function = IndexOf(recreate, "DROP FUNCTION public.f();");
  const int create_function = IndexOf(recreate, "CREATE OR REPLACE FUNCTION public.f()");
  const int create_trigger = IndexOf(recreate, "CREATE TRIGGER trg");
  ASSERT_GE(drop_trigger, 0) << Joined(recreate);
  EXPECT_LT(drop_trigger, drop_function) << Joined(recreate);
  EXPECT_LT(drop_function, create_function) << Joined(recreate);
  EXPECT_LT(create_function, create_trigger) << Joined(recreate);
}

TEST(CatalogGenerate, ChangedPrimaryKeyTakesReferencingForeignKeysAlong) {
  Catalog before;
  before.Add(Obj("table", "public.parent"));
  before.Add(Obj("table", "public.child"));
  before.Add(Obj("constraint", "public.parent.parent_pkey",
                 {{"type", "primary key"}, {"definition", "PRIMARY KEY (id)"}}));
  before.Add(Obj(
      "constraint", "public.child.child_fk",
      {{"type", "foreign key"}, {"definition", "FOREIGN KEY (pid) REFERENCES public.parent(id)"}}));
  Catalog after = before;
  after.objects["constraint public.parent.parent_pkey"].attributes["definition"] =
      "PRIMARY KEY (id) INCLUDE (x)";
  const GeneratedSql sql = GenerateMigrationSql(before, after);
  EXPECT_EQ(Joined(sql),
            "ALTER TABLE public.child DROP CONSTRAINT child_fk;\n"
            "ALTER TABLE public.parent DROP CONSTRAINT parent_pkey;\n"
            "ALTER TABLE public.parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id) INCLUDE (x);\n"
            "ALTER TABLE public.child ADD CONSTRAINT child_fk FOREIGN KEY (pid) REFERENCES "
            "public.parent(id);\n");
}

TEST(CatalogGenerate, ColumnTypeChangeUsesACastAndWarns) {
  Catalog before;
  before.Add(Obj("table", "public.users"));
  CatalogObject phone = Column("public.users.phone", "character varying(20)", 1);
  phone.attributes["default"] = "''::character varying";
  before.Add(phone);
  Catalog after = before;
  after.objects["column public.users.phone"].attributes["type"] = "text";
  after.objects["column public.users.phone"].attributes["default"] = "''::text";
  const GeneratedSql sql = GenerateMigrationSql(before, after);
  ASSERT_EQ(sql.warnings.size(), 1u);
  EXPECT_EQ(Joined(sql),
            "ALTER TABLE public.users ALTER COLUMN phone DROP DEFAULT;\n"
            "-- WARNING: " +
                sql.warnings[0] + "\n" +
                "ALTER TABLE public.users ALTER COLUMN phone TYPE text USING phone::text;\n"
                "ALTER TABLE public.users ALTER COLUMN phone SET DEFAULT ''::text;\n");
}

TEST(CatalogGenerate, FunctionsThatDefaultsUseComeBeforeTablesOthersAfter) {
  Catalog after;
  after.Add(Obj("table", "public.t"));
  CatalogObject id = Column("public.t.id", "integer", 1);
  id.attributes["default"] = "public.next_id()";
  id.depends_on.insert("function public.next_id()");
  after.Add(id);
  after.Add(Obj("function", "public.next_id()",
                {{"kind", "function"},
                 {"returns", "integer"},
                 {"definition", "CREATE OR REPLACE FUNCTION public.next_id() RETURNS integer"}}));
  CatalogObject count = Obj(
      "function", "public.count_t()",
      {{"kind", "function"},
       {"returns", "bigint"},
       {"definition", "CREATE OR REPLACE FUNCTION public.count_t() RETURNS bigint"}});
  count.depends_on.insert("table public.t");
  after.Add(count);

  EXPECT_EQ(Joined(GenerateMigrationSql(Catalog{}, after)),
            "CREATE OR REPLACE FUNCTION public.next_id() RETURNS integer;\n"
            "CREATE TABLE public.t (\n    id integer DEFAULT public.next_id()\n);\n"
            "CREATE OR REPLACE FUNCTION public.count_t() RETURNS bigint;\n");
  // Back down: a function that names the table goes before DROP TABLE, the
  // one the default used after it.
  EXPECT_EQ(Joined(GenerateMigrationSql(after, Catalog{})),
            "DROP FUNCTION public.count_t();\n"
            "-- WARNING: table public.t is dropped: its data is lost\n"
            "DROP TABLE public.t;\n"
            "DROP FUNCTION public.next_id();\n");
}

TEST(CatalogGenerate, SharedObjectsAreDroppedLastDependentsFirst) {
  Catalog before;
  before.Add(Obj("schema", "app"));
  before.Add(Obj("extension", "cube", {{"schema", "app"}}));
  CatalogObject earthdistance = Obj("extension", "earthdistance", {{"schema", "app"}});
  earthdistance.depends_on.insert("extension cube");
  before.Add(earthdistance);
  before.Add(Obj("enum", "app.mood", {{"labels", "'ok'"}}));
  before.Add(Obj("sequence", "app.s", {{"type", "bigint"}}));
  before.Add(Obj("function", "app.a()", {{"kind", "procedure"}}));
  CatalogObject b = Obj("function", "app.b()", {{"kind", "function"}, {"returns", "integer"}});
  b.depends_on.insert("function app.a()");
  before.Add(b);

  const GeneratedSql sql = GenerateMigrationSql(before, Catalog{});
  EXPECT_EQ(Joined(sql),
            "DROP FUNCTION app.b();\n"
            "DROP PROCEDURE app.a();\n"
            "DROP SEQUENCE app.s;\n"
            "DROP TYPE app.mood;\n"
            "DROP EXTENSION earthdistance;\n"
            "DROP EXTENSION cube;\n"
            "DROP SCHEMA app;\n");
  EXPECT_TRUE(sql.warnings.empty());
}

TEST(CatalogGenerate, KeptSequenceIsReleasedBeforeItsOwningColumnIsDropped) {
  Catalog before;
  before.Add(Obj("table", "public.t"));
  before.Add(Column("public.t.id", "integer", 1));
  before.Add(Column("public.t.legacy_id", "bigint", 2));
  before.Add(Obj("sequence", "public.shared_seq", {{"owned_by", "public.t.legacy_id"}}));
  before.Add(Obj("sequence", "public.legacy_seq", {{"owned_by", "public.t.legacy_id"}}));
  Catalog after;
  after.Add(Obj("table", "public.t"));
  after.Add(Column("public.t.id", "integer", 1));
  after.Add(Obj("sequence", "public.shared_seq", {{"owned_by", "public.t.id"}}));

  // legacy_seq goes with its column: no DROP SEQUENCE of its own.
  EXPECT_EQ(Joined(GenerateMigrationSql(before, after)),
            "ALTER SEQUENCE public.shared_seq OWNED BY NONE;\n"
            "-- WARNING: column public.t.legacy_id is dropped: its data is lost\n"
            "ALTER TABLE public.t DROP COLUMN legacy_id;\n"
            "ALTER SEQUENCE public.shared_seq OWNED BY public.t.id;\n");
}

TEST(CatalogGenerate, SequenceOptionsAreWrittenWhenCreatedOrChanged) {
  Catalog before;
  before.Add(Obj("sequence", "public.s",
                 {{"type", "bigint"},
                  {"start", "1"},
                  {"increment", "1"},
                  {"cache", "1"},
                  {"cycle", "false"}}));
  Catalog after = before;
  after.objects["sequence public.s"].attributes["cache"] = "20";

  EXPECT_EQ(Joined(GenerateMigrationSql(before, after)), "ALTER SEQUENCE public.s CACHE 20;\n");
  EXPECT_EQ(Joined(GenerateMigrationSql(Catalog{}, after)),
            "CREATE SEQUENCE public.s AS bigint START WITH 1 INCREMENT BY 1 CACHE 20 NO CYCLE;\n");
}

TEST(CatalogGenerate, EnumLabelUsedInTheSameMigrationRecreatesTheTypeWithANote) {
  const Catalog before = MoodTable("'ok'");
  Catalog after = before;
  after.objects["enum public.mood"].attributes["labels"] = "'ok', 'great'";
  after.objects["column public.t.m"].attributes["default"] = "'great'::public.mood";

  const GeneratedSql sql = GenerateMigrationSql(before, after);
  EXPECT_TRUE(sql.warnings.empty()) << Joined(sql);
  EXPECT_EQ(Joined(sql),
            "-- enum public.mood is recreated instead of ALTER TYPE ... ADD VALUE: this migration "
            "already uses a new label, which PostgreSQL allows only after the ADD VALUE commits\n"
            "ALTER TYPE public.mood RENAME TO mood__old;\n"
            "CREATE TYPE public.mood AS ENUM ('ok', 'great');\n"
            "ALTER TABLE public.t ALTER COLUMN m DROP DEFAULT;\n"
            "ALTER TABLE public.t ALTER COLUMN m TYPE public.mood USING m::text::public.mood;\n"
            "ALTER TABLE public.t ALTER COLUMN m SET DEFAULT 'great'::public.mood;\n"
            "DROP TYPE public.mood__old;\n");
}

TEST(CatalogGenerate, ChangedGenerationExpressionDropsAndAddsTheColumnWithItsIndex) {
  Catalog before;
  before.Add(Obj("table", "public.t"));
  before.Add(Column("public.t.a", "integer", 1));
  CatalogObject b = Column("public.t.b", "integer", 2);
  b.attributes["generated"] = "(a * 2)";
  before.Add(b);
  CatalogObject ix =
      Obj("index", "public.ix_t_b",
          {{"table", "public.t"}, {"definition", "CREATE INDEX ix_t_b ON public.t USING btree (b)"}});
  ix.depends_on.insert("column public.t.b");
  before.Add(ix);
  Catalog after = before;
  after.objects["column public.t.b"].attributes["generated"] = "(a * 3)";

  const GeneratedSql sql = GenerateMigrationSql(before, after);
  EXPECT_TRUE(sql.warnings.empty()) << Joined(sql);
  EXPECT_EQ(Joined(sql),
            "DROP INDEX public.ix_t_b;\n"
            "-- generated column public.t.b: PostgreSQL 15 cannot change a generation expression, "
            "so the column is dropped and added again (its values are recomputed)\n"
            "ALTER TABLE public.t DROP COLUMN b;\n"
            "ALTER TABLE public.t ADD COLUMN b integer GENERATED ALWAYS AS ((a * 3)) STORED;\n"
            "CREATE INDEX ix_t_b ON public.t USING btree (b);\n");
}

TEST(CatalogGenerate, NotNullColumnWithoutDefaultGetsANoteAndARemovedCommentIsNull) {
  Catalog before;
  before.Add(Obj("table", "public.t", {{"comment", "old"}}));
  before.Add(Column("public.t.id", "integer", 1));
  Catalog after;
  after.Add(Obj("table", "public.t"));
  after.Add(Column("public.t.id", "integer", 1));
  after.Add(Column("public.t.email", "text", 2, /*nullable=*/false));

  const GeneratedSql sql = GenerateMigrationSql(before, after);
  EXPECT_TRUE(sql.warnings.empty()) << Joined(sql);
  EXPECT_EQ(Joined(sql),
            "-- NOT NULL without a default fails if public.t has rows: add a default or backfill "
            "first\n"
            "ALTER TABLE public.t ADD COLUMN email text NOT NULL;\n"
            "COMMENT ON TABLE public.t IS NULL;\n");
}

}  // namespace
}  // namespace schemagate
