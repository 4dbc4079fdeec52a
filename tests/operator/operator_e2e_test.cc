// The whole loop: Migration -> operator -> Job -> kubelet simulator ->
// the real runner against a real PostgreSQL -> status written back.
#include <gtest/gtest.h>

#include <algorithm>

#include "operator/operator_fixture.h"

namespace schemagate::testing {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST_F(OperatorTest, MigrationGoesReadyAtHeadWithTheSchemaInTheDatabase) {
  std::string url = PgServer::Shared().CreateDatabase("op");
  StartKubelet(SourceDir() + "/migrations");
  operator_ = StartOperator();
  CreateSecret("ocr", "ocr-db", url);
  CreateMigration("ocr", "ocr-identity",
                  R"({"database":{"urlFrom":{"secretKeyRef":{"name":"ocr-db","key":"url"}}},"targetRevision":"head","environment":"production"})");
  Json m = WaitFor("ocr", "ocr-identity", [](const Json& m) { return Condition(m, "Ready") == "True"; });
  EXPECT_EQ(kube::GetString(m, {"status", "currentRevision"}), "0005");
  EXPECT_EQ(kube::GetString(m, {"status", "lastAppliedRevision"}), "0005");
  EXPECT_EQ(kube::GetInt(m, {"status", "observedGeneration"}), 1);
  EXPECT_EQ(Condition(m, "Reconciling"), "False");
  EXPECT_EQ(kube::GetField(m, {"status", "activeRun"}), nullptr);
  EXPECT_EQ(PgServer::Shared().Query(url, "SELECT count(*) FROM pg_tables WHERE tablename IN "
                                          "('users','identity_documents','ocr_jobs','audit_logs')"),
            "4");
  // Production ran the concurrent-index section.
  EXPECT_EQ(PgServer::Shared().Query(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_users_email'::regclass"),
            "t");
  auto reasons = EventReasons("ocr", "ocr-identity");
  EXPECT_TRUE(Has(reasons, "RunStarted"));
  EXPECT_TRUE(Has(reasons, "RevisionApplied"));
  // The database URL never reaches the Job: only a secretKeyRef.
  auto jobs = api_->Objects("jobs", "ocr");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].serialize().find(url), std::string::npos);
  EXPECT_NE(jobs[0].serialize().find("secretKeyRef"), std::string::npos);
}

}  // namespace
}  // namespace schemagate::testing
