// create --autogenerate, check --schema and verify: the real binary, scratch
// databases on a private server it starts itself or on --dev-url.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/runner_fixture.h"

namespace schemagate::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Replaces `old` (which must occur) with `now`.
std::string Replace(std::string text, const std::string& old, const std::string& now) {
  size_t at = text.find(old);
  EXPECT_NE(at, std::string::npos) << "missing: " << old;
  if (at != std::string::npos) text.replace(at, old.size(), now);
  return text;
}

class SchemaCommandsTest : public RunnerTest {
 protected:
  // The bundled migrations and the bundled declared schema in a temp tree,
  // with a private TMPDIR the postgres user can enter (so leftovers show).
  void SetUpTree() {
    CopyBundledMigrations();
    fs::copy_file(fs::path(SourceDir()) / "schema" / "ocr_identity.sql", SchemaFile());
    tmpdir_ = (fs::path(tmp_->path()) / "tmp").string();
    fs::create_directories(tmpdir_);
    chmod(tmp_->path().c_str(), 0755);
    chmod(tmpdir_.c_str(), 01777);
  }
  fs::path SchemaFile() const {
    fs::create_directories(fs::path(cwd_) / "schema");
    return fs::path(cwd_) / "schema" / "ocr_identity.sql";
  }
  // On a private server schemagate starts (what most users get) ...
  RunResult Local(std::vector<std::string> args) {
    args.push_back("--log-format");
    args.push_back("text");
    return SgRaw(args, {{"TMPDIR", tmpdir_}});
  }
  // ... or, quicker, on the shared test server through --dev-url.
  RunResult Dev(std::vector<std::string> args) {
    args.insert(args.end(), {"--dev-url", PgServer::Shared().Url("postgres"), "--log-format", "text"});
    return SgRaw(args, {{"TMPDIR", tmpdir_}});
  }
  bool TmpdirEmpty() const { return fs::is_empty(tmpdir_); }

  std::string tmpdir_;
};

TEST_F(SchemaCommandsTest, BundledMigrationsMatchTheBundledDeclaredSchema) {
  // From the source tree itself: the shipped schema/ and migrations/ agree.
  tmp_ = std::make_unique<TempDir>();
  tmpdir_ = tmp_->path();
  chmod(tmpdir_.c_str(), 01777);
  RunResult r = SgRaw({"check", "--schema", "--log-format", "text"}, {{"TMPDIR", tmpdir_}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("match the declared schema"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(tmpdir_)) << "the private server's directory was left behind";
}

TEST_F(SchemaCommandsTest, CheckSchemaReportsEveryDifferenceAndExits4) {
  SetUpTree();
  std::string schema = ReadAll(SchemaFile());
  schema = Replace(schema, "    phone VARCHAR(20)\n", "    phone VARCHAR(32),\n    nickname TEXT NOT NULL DEFAULT ''\n");
  schema = Replace(schema, "CREATE INDEX ix_users_phone ON users (phone);\n", "");
  Write(SchemaFile(), schema);
  RunResult r = Dev({"check", "--schema"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.out.find("nickname"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("phone"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ix_users_phone"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("--autogenerate"), std::string::npos) << r.err;

  RunResult j = Dev({"check", "--schema", "-o", "json"});
  EXPECT_EQ(j.exit_code, 4);
  EXPECT_NE(j.out.find("\"in_sync\":false"), std::string::npos) << j.out;
  EXPECT_TRUE(TmpdirEmpty());
}

TEST_F(SchemaCommandsTest, CheckSchemaNeverTouchesTheTargetDatabase) {
  SetUpTree();
  // A target URL that cannot work: the check must not need it.
  RunResult r = SgRaw({"check", "--schema", "--url", "postgresql://nobody@127.0.0.1:1/none", "--log-format", "text"},
                      {{"TMPDIR", tmpdir_}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(SchemaCommandsTest, AutogenerateWritesARevisionThatReachesTheDeclaredSchemaAndComesBack) {
  SetUpTree();
  std::string schema = ReadAll(SchemaFile());
  schema = Replace(schema, "    phone VARCHAR(20)\n", "    phone VARCHAR(20),\n    locale TEXT NOT NULL DEFAULT 'en'\n");
  schema = Replace(schema, "CREATE INDEX ix_users_phone ON users (phone);\n",
                   "CREATE INDEX ix_users_phone ON users (phone);\n"
                   "CREATE INDEX ix_ocr_jobs_pending ON ocr_jobs (created_at) WHERE job_status = 'pending';\n"
                   "CREATE TABLE api_keys (\n    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                   "    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
                   "    key_hash TEXT NOT NULL UNIQUE\n);\n"
                   "COMMENT ON TABLE api_keys IS 'Hashed API keys';\n");
  schema = Replace(schema, "CREATE TRIGGER trg_audit_logs_updated_at BEFORE UPDATE ON audit_logs\n"
                           "    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();\n", "");
  Write(SchemaFile(), schema);

  RunResult r = Local({"create", "add api keys", "--autogenerate"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  fs::path file = fs::path(script_location_) / "versions" / "0006_add_api_keys.sql";
  ASSERT_TRUE(fs::exists(file)) << r.out;
  std::string text = ReadAll(file);
  EXPECT_NE(text.find("-- down_revision: 0005"), std::string::npos) << text;
  EXPECT_NE(text.find("api_keys"), std::string::npos) << text;
  EXPECT_NE(text.find("locale"), std::string::npos) << text;
  EXPECT_NE(text.find("ix_ocr_jobs_pending"), std::string::npos) << text;
  EXPECT_NE(text.find("trg_audit_logs_updated_at"), std::string::npos) << text;
  EXPECT_EQ(text.find("did not round-trip"), std::string::npos) << text;

  // The migrations at the new head now match the declared schema ...
  RunResult check = Dev({"check", "--schema"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  // ... every downgrade (the generated one included) restores its parent ...
  RunResult verify = Dev({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // ... and it runs on a real database, up and down.
  RunResult up = Sg({"upgrade", "head"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(Q("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'locale'"), "1");
  const std::string at_head = CatalogSnapshot();
  RunResult down = Sg({"downgrade", "-1"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Q("SELECT to_regclass('api_keys') IS NULL"), "t");
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  EXPECT_EQ(CatalogSnapshot(), at_head);
  EXPECT_TRUE(TmpdirEmpty());
}

TEST_F(SchemaCommandsTest, AutogenerateWithNoChangesWritesNothing) {
  SetUpTree();
  RunResult r = Dev({"create", "nothing", "--autogenerate"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("No changes in schema detected"), std::string::npos) << r.out;
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(script_location_) / "versions"), fs::directory_iterator()), 5);
}

TEST_F(SchemaCommandsTest, AutogenerateCallsAPossibleRenameADropAndAddLoudly) {
  SetUpTree();
  Write(SchemaFile(), Replace(ReadAll(SchemaFile()), "    full_name VARCHAR(255),\n", "    display_name VARCHAR(255),\n"));
  RunResult r = Dev({"create", "rename full name", "--autogenerate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text = ReadAll(fs::path(script_location_) / "versions" / "0006_rename_full_name.sql");
  EXPECT_NE(text.find("WARNING"), std::string::npos) << text;
  EXPECT_NE(text.find("rename"), std::string::npos) << text;
  EXPECT_NE(text.find("display_name"), std::string::npos) << text;
  EXPECT_NE(r.err.find("rename"), std::string::npos) << r.err;
}

TEST_F(SchemaCommandsTest, AutogenerateNeedsThePlaceholdersInACustomTemplate) {
  SetUpTree();
  Write(fs::path(script_location_) / "script.sql.tmpl",
        "-- revision: ${revision}\n-- down_revision: ${down_revision}\n-- message: ${message}\n\n"
        "-- migrate:upgrade\n\n-- migrate:downgrade\n");
  Write(SchemaFile(), Replace(ReadAll(SchemaFile()), "    phone VARCHAR(20)\n", "    phone VARCHAR(20),\n    x INT\n"));
  RunResult r = Dev({"create", "x", "--autogenerate"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("${upgrades}"), std::string::npos) << r.err;
}

TEST_F(SchemaCommandsTest, VerifyPassesTheBundledMigrations) {
  SetUpTree();
  RunResult r = Local({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("5 revision(s) verified"), std::string::npos) << r.out;
  for (const char* rev : {"0001", "0002", "0003", "0004", "0005"}) {
    EXPECT_NE(r.err.find(std::string("Verified ") + rev), std::string::npos) << r.err;
  }
  EXPECT_TRUE(TmpdirEmpty());
}

TEST_F(SchemaCommandsTest, VerifyNamesTheDowngradeThatForgetsAnIndex) {
  SetUpTree();
  WriteMigration("0006_created_at_index.sql",
                 "-- revision: 0006\n-- down_revision: 0005\n\n-- migrate:upgrade\n"
                 "ALTER TABLE users ADD COLUMN last_login TIMESTAMPTZ;\n"
                 "CREATE INDEX ix_users_created_at ON users (created_at);\n\n"
                 "-- migrate:downgrade\nALTER TABLE users DROP COLUMN last_login;\n");
  RunResult r = Dev({"verify"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("revision 0006"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0006_created_at_index.sql"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ix_users_created_at"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("last_login"), std::string::npos) << "the column is restored; only the index is a trace: " << r.err;
  EXPECT_NE(r.err.find("Verified 0005"), std::string::npos) << r.err;
  EXPECT_TRUE(TmpdirEmpty());
}

TEST_F(SchemaCommandsTest, VerifyWalksTheProductionSectionsWithoutTheProductionUrl) {
  // The source tree's schemagate.yaml: production reads DATABASE_URL, unset here.
  RunResult r = SgRaw({"verify", "--env", "production", "--dev-url", PgServer::Shared().Url("postgres"),
                       "--log-format", "text"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("Verified 0005"), std::string::npos) << r.err;
  // Commands that connect still say what is missing.
  RunResult up = SgRaw({"upgrade", "--env", "production", "--log-format", "text"});
  EXPECT_EQ(up.exit_code, 2) << up.err;
  EXPECT_NE(up.err.find("set DATABASE_URL"), std::string::npos) << up.err;
}

TEST_F(SchemaCommandsTest, VerifyRefusesSeveralHeads) {
  SetUpTree();
  WriteMigration("0006_side.sql", "-- revision: 0006\n-- down_revision: 0004\n\n-- migrate:upgrade\nSELECT 1;\n");
  RunResult r = Dev({"verify"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("heads"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("merge"), std::string::npos) << r.err;
}

TEST_F(SchemaCommandsTest, VerifyFindsChecksumDriftAgainstTheNamedDatabase) {
  SetUpTree();
  ASSERT_EQ(Sg({"upgrade", "head"}).exit_code, 0);
  fs::path f = fs::path(script_location_) / "versions" / "0004_verify_company_emails.sql";
  Write(f, Replace(ReadAll(f), "'%@company.com';\n\n-- migrate:downgrade", "'%@company.org';\n\n-- migrate:downgrade"));
  RunResult r = SgRaw({"verify", "--url", url_, "--log-format", "text"}, {{"TMPDIR", tmpdir_}});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("0004"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
}

TEST_F(SchemaCommandsTest, DevUrlServerGetsItsScratchDatabasesBack) {
  SetUpTree();
  PgServer& pg = PgServer::Shared();
  const std::string dev = pg.Url("postgres");
  RunResult r = SgRaw({"verify", "--dev-url", dev, "--log-format", "text"}, {{"TMPDIR", tmpdir_}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(TmpdirEmpty()) << "no private server with --dev-url";
  EXPECT_EQ(pg.Query(dev, "SELECT count(*) FROM pg_database WHERE datname LIKE 'sg\\_scratch\\_%'"), "0");

  RunResult bad = SgRaw({"verify", "--dev-url", "postgresql://postgres@127.0.0.1:1/postgres", "--connect-timeout", "1s",
                         "--log-format", "text"},
                        {{"TMPDIR", tmpdir_}});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("--dev-url"), std::string::npos) << bad.err;
}

TEST_F(SchemaCommandsTest, DevUrlRoleWithoutCreatedbIsToldWhatItNeeds) {
  SetUpTree();
  PgServer& pg = PgServer::Shared();
  RunResult r = SgRaw({"check", "--schema", "--dev-url", pg.Url("postgres", PgServer::kPasswordRole, PgServer::kPassword),
                       "--log-format", "text"},
                      {{"TMPDIR", tmpdir_}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("CREATEDB"), std::string::npos) << r.err;
  EXPECT_EQ(pg.Query(pg.Url("postgres"), "SELECT count(*) FROM pg_database WHERE datname LIKE 'sg\\_scratch\\_%'"), "0");
}

TEST_F(SchemaCommandsTest, CtrlCStopsThePrivateServerAndRemovesItsDirectory) {
  SetUpTree();
  RunOptions opts;
  opts.cwd = cwd_;
  opts.env = {{"TMPDIR", tmpdir_}, {"DATABASE_URL", kUnset}, {"ENVIRONMENT", kUnset}};
  Child child({SchemagateBinary(), "verify", "--log-format", "text"}, opts);
  // Wait until the private server runs (its socket appears), then Ctrl-C.
  std::string socket;
  for (int i = 0; i < 600 && socket.empty(); ++i) {
    for (const auto& e : fs::directory_iterator(tmpdir_)) {
      if (fs::exists(e.path() / ".s.PGSQL.5432")) socket = e.path().string();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(socket.empty()) << "the private server never started";
  std::string pid_text = ReadAll(fs::path(socket) / "data" / "postmaster.pid");
  const pid_t postmaster = std::stoi(pid_text);
  child.Kill(SIGINT);
  RunResult r = child.Wait();
  EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.err;
  EXPECT_TRUE(TmpdirEmpty()) << "left behind after Ctrl-C";
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(postmaster, 0) != 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << "postmaster " << postmaster << " still runs";
}

}  // namespace
}  // namespace schemagate::testing
