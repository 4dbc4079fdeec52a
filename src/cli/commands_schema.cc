// Commands that compare schemas on scratch databases, never on the target:
// `create --autogenerate`, `check --schema` and `verify` (the stairway).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/context.h"
#include "core/json_writer.h"
#include "db/catalog_reader.h"
#include "db/scratch_server.h"
#include "schema/catalog.h"

namespace schemagate::cli {
namespace {

namespace fs = std::filesystem;

Result<std::unique_ptr<ScratchServer>> OpenScratch(Context& ctx, const Settings& settings) {
  Output& out = ctx.out();
  auto server = ScratchServer::Open(settings.dev_url, settings.connect_timeout, [&out](const std::string& line) {
    out.Info(line, {{"event", "scratch_server"}});
  });
  if (!server.ok()) return server.status();
  return std::move(server.value());
}

// A connection to a scratch database with the settings' table names, so the
// migrations run there exactly as they would on the target.
Result<std::unique_ptr<Database>> ConnectScratch(const Settings& settings, const std::string& conninfo) {
  DatabaseOptions o;
  o.url = conninfo;
  o.client = Context::ClientName();
  o.application_name = "schemagate-scratch@" + o.client;
  o.connect_timeout = std::chrono::seconds(30);
  o.version_table = settings.version_table;
  o.version_table_schema = settings.version_table_schema;
  o.log_table = settings.log_table;
  return Database::Connect(o);
}

// schemagate's own tables are bookkeeping, not schema.
CatalogReadOptions OwnTablesExcluded(const Settings& settings) {
  CatalogReadOptions o;
  o.exclude_tables = {settings.version_table_schema + "." + settings.version_table,
                      settings.version_table_schema + "." + settings.log_table};
  return o;
}

Result<Catalog> Read(const Settings& settings, const std::string& conninfo, const std::string& what) {
  auto catalog = ReadCatalog(conninfo, OwnTablesExcluded(settings));
  if (!catalog.ok()) return catalog.status().Prefixed("reading the catalog of " + what);
  return catalog;
}

// Runs exactly `steps` (already planned from the heads the database is known
// to have), each in its own transaction, as `upgrade` and `downgrade` would.
Status RunSteps(Database& db, const MigrationSet& set, const Settings& settings, const Heads& expected_heads,
                std::vector<Step> steps, Direction direction) {
  if (steps.empty()) return Status::Ok();
  Plan plan;
  plan.from_heads = expected_heads;
  plan.to_heads = steps.back().heads_after;
  plan.steps = std::move(steps);
  RunOptions run;
  run.environment = settings.environment;
  run.direction = direction;
  run.command = DirectionName(direction);
  auto outcome = db.Run(set, [&](const Heads& current) -> Result<Plan> {
    if (current != plan.from_heads) {
      return Status::Runtime("the scratch database is at " + JoinHeads(current) + ", expected " +
                             JoinHeads(plan.from_heads) + " (is something else using it?)");
    }
    return plan;
  }, run);
  return outcome.status();
}

// Applies the migrations up to `target` (a revision or "heads") on an empty database.
Status MigrateTo(Database& db, const MigrationSet& set, const Settings& settings, const std::string& target) {
  auto plan = PlanUpgrade(set.graph(), {}, target);
  if (!plan.ok()) return plan.status();
  return RunSteps(db, set, settings, {}, plan->steps, Direction::kUpgrade);
}

// The declared schema: every *.sql file directly in schema_location, by name.
struct SchemaFile {
  std::string path;
  std::string sql;
};

Result<std::vector<SchemaFile>> LoadDeclaredSchema(const Settings& settings) {
  const std::string& dir = settings.schema_location;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::Usage("no declared schema: '" + dir +
                         "' is not a directory (schema_location in schemagate.yaml, or --schema-location). "
                         "It holds the schema the database should have, as plain SQL files applied in name order");
  }
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".sql" && entry.is_regular_file(ec)) paths.push_back(entry.path().string());
  }
  if (ec) return Status::Runtime("cannot list " + dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) return Status::Usage("no declared schema: '" + dir + "' holds no *.sql files");
  std::vector<SchemaFile> files;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Status::Runtime("cannot read " + path);
    files.push_back({path, text.str()});
  }
  return files;
}

// The two sides every schema comparison needs: the migrations at `target`
// and the declared schema, each on its own scratch database.
struct Sides {
  std::unique_ptr<ScratchServer> server;
  std::string migrations_db;
  std::string declared_db;
  Catalog migrations;
  Catalog declared;
};

// `target`: a revision, "heads", or "" for an empty database.
Result<Sides> BuildSides(Context& ctx, const Settings& settings, const MigrationSet& set,
                         const std::string& target) {
  auto files = LoadDeclaredSchema(settings);
  if (!files.ok()) return files.status();
  Sides sides;
  auto server = OpenScratch(ctx, settings);
  if (!server.ok()) return server.status();
  sides.server = std::move(server.value());

  auto migrations_db = sides.server->CreateDatabase("migrations");
  if (!migrations_db.ok()) return migrations_db.status();
  sides.migrations_db = *migrations_db;
  auto db = ConnectScratch(settings, sides.migrations_db);
  if (!db.ok()) return db.status();
  if (!target.empty()) {
    ctx.out().Info("Applying the migrations up to " + target + " on a scratch database (" +
                       sides.server->description() + ")",
                   {{"event", "scratch_migrate"}});
    Status migrated = MigrateTo(**db, set, settings, target);
    if (!migrated.ok()) return migrated.Prefixed("applying the migrations to a scratch database");
  }

  auto declared_db = sides.server->CreateDatabase("declared");
  if (!declared_db.ok()) return declared_db.status();
  sides.declared_db = *declared_db;
  ctx.out().Info("Applying the declared schema in " + settings.schema_location + " on a scratch database",
                 {{"event", "scratch_declared"}});
  for (const SchemaFile& f : *files) {
    Status applied = ExecuteSqlScript(sides.declared_db, f.path, f.sql);
    if (!applied.ok()) return applied.Prefixed("the declared schema does not apply");
  }
  auto a = Read(settings, sides.migrations_db, "the migrations' scratch database");
  if (!a.ok()) return a.status();
  auto b = Read(settings, sides.declared_db, "the declared schema's scratch database");
  if (!b.ok()) return b.status();
  sides.migrations = std::move(a.value());
  sides.declared = std::move(b.value());
  return sides;
}

std::string Body(const GeneratedSql& sql) {
  std::string out;
  for (const std::string& statement : sql.statements) out += statement + "\n";
  return out;
}

std::string DifferenceLines(const std::vector<CatalogDifference>& diffs, const std::string& indent) {
  std::string out;
  for (const CatalogDifference& d : diffs) out += indent + FormatDifference(d) + "\n";
  return out;
}

void DifferencesJson(JsonWriter& w, const std::vector<CatalogDifference>& diffs) {
  w.BeginArray();
  for (const CatalogDifference& d : diffs) {
    w.BeginObject()
        .Field("kind", d.kind)
        .Field("name", d.name)
        .Field("attribute", d.attribute)
        .Field("before", d.before)
        .Field("after", d.after)
        .Field("text", FormatDifference(d))
        .EndObject();
  }
  w.EndArray();
}

// --- verify: the stairway ---------------------------------------------------

Status RunVerify(Context& ctx, const po::variables_map&) {
  auto s = ctx.settings();
  if (!s.ok()) return s.status();
  const Settings& settings = **s;
  Output& out = ctx.out();
  // Every file parses and splits (the loader refuses anything else, exit 4).
  auto loaded = ctx.migrations(true);
  if (!loaded.ok()) return loaded.status();
  const MigrationSet& set = **loaded;
  const RevisionGraph& graph = set.graph();
  const Heads heads = graph.Heads();
  if (heads.empty()) return Status::Validation("no revisions in " + settings.script_location + "/versions to verify");
  if (heads.size() > 1) {
    return Status::Validation("the revision tree has " + std::to_string(heads.size()) + " heads (" +
                              JoinHeads(heads) + "); merge them with 'schemagate merge' so deploys have one target");
  }
  out.Info("Files: " + std::to_string(set.files().size()) + " revision(s) parse, one head " + heads.front());

  // Checksums against a database, only when one is named on the command line.
  if (settings.url_source == "--url") {
    auto db = ctx.database();
    if (!db.ok()) return db.status();
    auto state = (*db)->ReadState();
    if (!state.ok()) return state.status();
    auto newer = CheckNewerRelease(**db, graph, *state);
    if (!newer.ok()) return newer.status();
    const bool ahead = newer->has_value();
    SG_RETURN_IF_ERROR(set.CheckChecksums(ahead ? (*newer)->known_heads : state->heads, state->checksums));
    out.Info("Checksums: no drift against " + (*db)->target() + " (" +
             (ahead ? AheadLine(state->heads, "head", heads) : "at " + JoinHeads(state->heads)) + ")");
  }

  auto plan = PlanUpgrade(graph, {}, "heads");
  if (!plan.ok()) return plan.status();
  auto server = OpenScratch(ctx, settings);
  if (!server.ok()) return server.status();
  auto conninfo = (*server)->CreateDatabase("verify");
  if (!conninfo.ok()) return conninfo.status();
  auto db = ConnectScratch(settings, *conninfo);
  if (!db.ok()) return db.status();

  auto before = Read(settings, *conninfo, "the scratch database");
  if (!before.ok()) return before.status();
  Catalog previous = std::move(before.value());
  int verified = 0;
  for (const Step& step : plan->steps) {
    const MigrationFile* file = set.Find(step.revision);
    const std::string where = "revision " + step.revision + " (" + file->revision.path + ")";
    Step down = step;
    down.direction = Direction::kDowngrade;
    std::swap(down.heads_before, down.heads_after);

    SG_RETURN_IF_ERROR(RunSteps(**db, set, settings, step.heads_before, {step}, Direction::kUpgrade)
                           .Prefixed("upgrading " + where));
    auto upgraded = Read(settings, *conninfo, "the scratch database");
    if (!upgraded.ok()) return upgraded.status();
    SG_RETURN_IF_ERROR(RunSteps(**db, set, settings, step.heads_after, {down}, Direction::kDowngrade)
                           .Prefixed("downgrading " + where));
    auto reverted = Read(settings, *conninfo, "the scratch database");
    if (!reverted.ok()) return reverted.status();
    std::vector<CatalogDifference> trace = DiffCatalogs(previous, *reverted);
    if (!trace.empty()) {
      Status failed = Status::Validation(
          where + ": its downgrade does not restore the schema from before its upgrade (" +
          std::to_string(trace.size()) + " difference(s), before upgrade -> after downgrade):\n" +
          DifferenceLines(trace, "  ") + "Fix the file's '-- migrate:downgrade' section.");
      ErrorLocation loc;
      loc.revision = step.revision;
      loc.file = file->revision.path;
      failed.set_location(loc);
      return failed;
    }
    SG_RETURN_IF_ERROR(RunSteps(**db, set, settings, step.heads_before, {step}, Direction::kUpgrade)
                           .Prefixed("upgrading " + where + " again after its downgrade"));
    auto again = Read(settings, *conninfo, "the scratch database");
    if (!again.ok()) return again.status();
    std::vector<CatalogDifference> drift = DiffCatalogs(*upgraded, *again);
    if (!drift.empty()) {
      return Status::Validation(where + ": upgrading again after its downgrade gives a different schema (" +
                                std::to_string(drift.size()) + " difference(s), first upgrade -> second):\n" +
                                DifferenceLines(drift, "  ") +
                                "The downgrade leaves something the upgrade then builds on differently.");
    }
    out.Info("Verified " + step.revision + ": upgrade, downgrade, upgrade (" +
                 std::to_string(upgraded->objects.size()) + " objects)",
             {{"event", "revision_verified"}, {"revision", step.revision}});
    previous = std::move(upgraded.value());
    ++verified;
  }
  if (out.json()) {
    JsonWriter w;
    w.BeginObject()
        .Field("verified", static_cast<int64_t>(verified))
        .Field("head", heads.front())
        .Field("checksums_checked", settings.url_source == "--url")
        .EndObject();
    out.Print(w.str());
  } else {
    out.Print("OK: " + std::to_string(verified) + " revision(s) verified: each downgrade restores the schema " +
              "from before its upgrade, one head (" + heads.front() + ")");
  }
  return Status::Ok();
}

}  // namespace

// --- create --autogenerate --------------------------------------------------

Result<GeneratedRevision> Autogenerate(Context& ctx, const MigrationSet& set, const Revision& r) {
  auto s = ctx.settings();
  if (!s.ok()) return s.status();
  const Settings& settings = **s;
  // create allows one parent at most (none: a new base).
  auto sides = BuildSides(ctx, settings, set, r.down_revisions.empty() ? "" : r.down_revisions.front());
  if (!sides.ok()) return sides.status();
  GeneratedRevision out;
  std::vector<CatalogDifference> diffs = DiffCatalogs(sides->migrations, sides->declared);
  if (diffs.empty()) return out;
  out.has_changes = true;
  GeneratedSql up = GenerateMigrationSql(sides->migrations, sides->declared);
  GeneratedSql down = GenerateMigrationSql(sides->declared, sides->migrations);
  for (const std::string& w : up.warnings) ctx.out().Warn("upgrade: " + w);
  for (const std::string& w : down.warnings) ctx.out().Warn("downgrade: " + w);

  // Prove the file before writing it: the upgrade must reach the declared
  // schema and the downgrade must come back.
  std::string problems;
  Status applied = ExecuteSqlScript(sides->migrations_db, "the generated upgrade", Body(up));
  if (applied.ok()) {
    auto reached = Read(settings, sides->migrations_db, "the scratch database after the generated upgrade");
    if (!reached.ok()) return reached.status();
    auto left = DiffCatalogs(*reached, sides->declared);
    if (!left.empty()) problems += "after the upgrade, still different from the declared schema:\n" + DifferenceLines(left, "  ");
    Status reverted = ExecuteSqlScript(sides->migrations_db, "the generated downgrade", Body(down));
    if (reverted.ok()) {
      auto back = Read(settings, sides->migrations_db, "the scratch database after the generated downgrade");
      if (!back.ok()) return back.status();
      auto trace = DiffCatalogs(sides->migrations, *back);
      if (!trace.empty()) problems += "after the downgrade, different from before:\n" + DifferenceLines(trace, "  ");
    } else {
      problems += "the downgrade fails: " + reverted.message() + "\n";
    }
  } else {
    problems += "the upgrade fails: " + applied.message() + "\n";
  }
  std::string review = "-- Generated by 'schemagate create --autogenerate' from the migrations at " +
                       JoinHeads(r.down_revisions) + " and the declared schema in " + settings.schema_location +
                       ". Review before committing.\n";
  if (!problems.empty()) {
    ctx.out().Warn("the generated revision does not round-trip on a scratch database; review it:\n" + problems);
    std::string commented;
    std::istringstream lines(problems);
    for (std::string line; std::getline(lines, line);) commented += "-- " + line + "\n";
    review += "-- WARNING: this SQL did not round-trip on a scratch database:\n" + commented;
  }
  // Generated DDL mostly alters existing tables: fail fast instead of
  // queueing the app behind a lock (`schemagate lint` asks for this too).
  const std::string lock_timeout =
      "-- Give up after 5s rather than queue every query on the table behind this lock; rerun then.\n"
      "SET LOCAL lock_timeout = '5s';\n";
  out.upgrade = review + lock_timeout + Body(up);
  out.downgrade = lock_timeout + Body(down);
  return out;
}

// --- check --schema ---------------------------------------------------------

Status CheckSchema(Context& ctx) {
  auto s = ctx.settings();
  if (!s.ok()) return s.status();
  const Settings& settings = **s;
  auto loaded = ctx.migrations(true);
  if (!loaded.ok()) return loaded.status();
  // Before any scratch database: a statement the parser refuses fails here, with its place.
  SG_RETURN_IF_ERROR(CheckMigrationsSyntax(ctx.out(), **loaded));
  const Heads heads = (*loaded)->graph().Heads();
  auto sides = BuildSides(ctx, settings, **loaded, "heads");
  if (!sides.ok()) return sides.status();
  std::vector<CatalogDifference> diffs = DiffCatalogs(sides->migrations, sides->declared);
  Output& out = ctx.out();
  if (out.json()) {
    JsonWriter w;
    w.BeginObject()
        .Field("heads", heads)
        .Field("schema_location", settings.schema_location)
        .Field("in_sync", diffs.empty())
        .Key("differences");
    DifferencesJson(w, diffs);
    w.EndObject();
    out.Print(w.str());
  } else if (diffs.empty()) {
    out.Print("OK: the migrations at " + JoinHeads(heads) + " match the declared schema in " +
              settings.schema_location);
  } else {
    out.Print(std::to_string(diffs.size()) + " difference(s) between the migrations at " + JoinHeads(heads) +
              " and the declared schema in " + settings.schema_location + " (migrations -> declared):\n" +
              DifferenceLines(diffs, "  "));
  }
  if (diffs.empty()) return Status::Ok();
  return Status::Validation("the migrations at " + JoinHeads(heads) + " and the declared schema in " +
                            settings.schema_location + " disagree (" + std::to_string(diffs.size()) +
                            " difference(s)); run 'schemagate create \"message\" --autogenerate' to write the "
                            "migration, or fix the declared schema");
}

std::vector<Command> SchemaCommands() {
  std::vector<Command> c;
  c.push_back({"verify", "verify [--dev-url URL] [--url URL]",
               "stairway test on a scratch database: each revision up, down, up again; exit 4 on the first "
               "downgrade that leaves a trace",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("dev-url", po::value<std::string>(),
                                 "server for the scratch database (default: a private one started from the "
                                 "PostgreSQL binaries here)");
               },
               RunVerify});
  return c;
}

}  // namespace schemagate::cli
