// TLS to the database, as production runs it: a server with a certificate
// from a CA of its own (PgServer::Options::tls). libpq is linked into the
// runner, OpenSSL is shared: these tests exercise that pairing end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/pg_server.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PgServer(PgServer::Options{/*tls=*/true}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { url_ = server_->CreateDatabase("tls"); }

  // `schemagate ARGS --url <this test's database><params>` in the source tree
  // (its schemagate.yaml and the bundled migrations).
  RunResult Sg(std::vector<std::string> args, const std::string& params) {
    std::vector<std::string> argv{SchemagateBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--connect-timeout", "1s", "--log-format", "text"}) argv.push_back(a);
    argv.push_back("--url");
    argv.push_back(url_ + params);
    RunOptions o;
    o.cwd = SourceDir();
    o.env = {{"DATABASE_URL", kUnset}, {"ENVIRONMENT", kUnset}, {"PGSSLMODE", kUnset}, {"PGSSLROOTCERT", kUnset}};
    o.timeout = std::chrono::seconds(120);
    return RunProcess(argv, o);
  }

  static PgServer* server_;
  std::string url_;
};

PgServer* TlsTest::server_ = nullptr;

// verify-full with the right CA: the migrations run over an encrypted
// session, which the server's connection log shows.
TEST_F(TlsTest, VerifyFullWithTheServersCaAppliesOverTls) {
  RunResult r = Sg({"upgrade", "head"}, "?sslmode=verify-full&sslrootcert=" + server_->ca_file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server_->Query(url_, "SELECT version_num FROM alembic_version"), "0005");
  const std::string log = ReadFile(server_->log_file());
  EXPECT_CONTAINS(log, "application_name=schemagate@");
  bool encrypted = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("connection authorized") != std::string::npos &&
        line.find("application_name=schemagate@") != std::string::npos) {
      EXPECT_CONTAINS(line, "SSL enabled");
      encrypted = encrypted || line.find("SSL enabled") != std::string::npos;
    }
  }
  EXPECT_TRUE(encrypted) << log;
  RunResult check = Sg({"check"}, "?sslmode=verify-full&sslrootcert=" + server_->ca_file());
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_CONTAINS(check.err, "Connection: TLS (TLSv1.");
  EXPECT_CONTAINS(check.err, "certificate and host name verified (sslmode=verify-full)");
  EXPECT_EQ(check.err.find("in production use"), std::string::npos) << check.err;
}

// Encrypted but unverified: `check` says so, and what to use instead.
TEST_F(TlsTest, CheckSaysWhenTheCertificateIsNotVerified) {
  RunResult r = Sg({"check"}, "?sslmode=require");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "certificate not verified (sslmode=require); in production use sslmode=verify-full");
}

// A certificate from another CA is refused before anything runs, at once:
// waiting cannot fix it.
TEST_F(TlsTest, VerifyFullWithAnotherCaFailsSayingWhy) {
  TempDir other;
  RunResult ca = RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                             "/CN=some other CA", "-keyout", other.path() + "/ca.key", "-out", other.path() + "/ca.crt"});
  ASSERT_EQ(ca.exit_code, 0) << ca.err;
  RunResult r = Sg({"upgrade", "head"}, "?sslmode=verify-full&sslrootcert=" + other.path() + "/ca.crt");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "certificate verify failed");
  EXPECT_EQ(r.err.find("attempts"), std::string::npos) << "retried a certificate error: " << r.err;
  EXPECT_EQ(server_->Query(url_, "SELECT to_regclass('alembic_version') IS NULL"), "t");
}

// The certificate names 127.0.0.1 and localhost; any other name the client
// asked for is refused under verify-full, accepted under verify-ca.
TEST_F(TlsTest, VerifyFullChecksTheHostNameVerifyCaDoesNot) {
  const std::string ca = "&sslrootcert=" + server_->ca_file();
  RunResult full = Sg({"current"}, "?sslmode=verify-full&hostaddr=127.0.0.1&host=db.example" + ca);
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_CONTAINS(full.err, "does not match host name \"db.example\"");
  RunResult verify_ca = Sg({"current"}, "?sslmode=verify-ca&hostaddr=127.0.0.1&host=db.example" + ca);
  EXPECT_EQ(verify_ca.exit_code, 0) << verify_ca.err;
}

}  // namespace
}  // namespace schemagate::testing
