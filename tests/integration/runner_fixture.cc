#include "integration/runner_fixture.h"

#include <fstream>

namespace schemagate::testing {

namespace fs = std::filesystem;

void RunnerTest::SetUp() {
  url_ = PgServer::Shared().CreateDatabase("runner");
  cwd_ = SourceDir();
}

RunResult RunnerTest::SgRaw(std::vector<std::string> args, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{SchemagateBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions opts;
  opts.cwd = cwd_;
  opts.env = env;
  // Keep tests independent of the caller's environment.
  if (!opts.env.count("DATABASE_URL")) opts.env["DATABASE_URL"] = kUnset;
  if (!opts.env.count("ENVIRONMENT")) opts.env["ENVIRONMENT"] = kUnset;
  opts.timeout = std::chrono::seconds(120);
  return RunProcess(argv, opts);
}

RunResult RunnerTest::Sg(std::vector<std::string> args, const std::map<std::string, std::string>& env) {
  args.push_back("--url");
  args.push_back(url_);
  args.push_back("--log-format");
  args.push_back("text");
  return SgRaw(std::move(args), env);
}

std::string RunnerTest::Q(const std::string& sql) { return PgServer::Shared().Query(url_, sql); }

std::string RunnerTest::CopyBundledMigrations() {
  if (!tmp_) tmp_ = std::make_unique<TempDir>();
  fs::path dir = fs::path(tmp_->path()) / "migrations";
  fs::create_directories(dir / "versions");
  for (const auto& e : fs::directory_iterator(fs::path(SourceDir()) / "migrations" / "versions")) {
    fs::copy_file(e.path(), dir / "versions" / e.path().filename());
  }
  fs::copy_file(fs::path(SourceDir()) / "migrations" / "script.sql.tmpl", dir / "script.sql.tmpl");
  WriteFile((fs::path(tmp_->path()) / "schemagate.yaml").string(),
            "script_location: migrations\nenvironment: development\n");
  cwd_ = tmp_->path();
  script_location_ = dir.string();
  return script_location_;
}

void RunnerTest::WriteMigration(const std::string& name, const std::string& content) {
  ASSERT_FALSE(script_location_.empty()) << "call CopyBundledMigrations first";
  WriteFile((fs::path(script_location_) / "versions" / name).string(), content);
}

std::string RunnerTest::CatalogSnapshot(const std::string& url) {
  const std::string u = url.empty() ? url_ : url;
  const char* kExcluded = "('alembic_version', 'schemagate_log')";
  std::string sql =
      "SELECT 'table ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || "
      "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || "
      "pg_get_expr(d.adbin, d.adrelid), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
      "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
      "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN " + std::string(kExcluded) +
      " UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT IN " +
      kExcluded +
      " UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || "
      "pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND "
      "conrelid::regclass::text NOT IN " + kExcluded +
      " UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal"
      " UNION ALL SELECT 'function ' || p.oid::regprocedure || ' ' || md5(p.prosrc) FROM pg_proc p WHERE "
      "p.pronamespace = 'public'::regnamespace"
      " UNION ALL SELECT 'extension ' || extname FROM pg_extension"
      " ORDER BY 1";
  return PgServer::Shared().Query(u, sql);
}

}  // namespace schemagate::testing
