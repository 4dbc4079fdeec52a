// The runner links libpq statically and loads Kerberos (GSSAPI) and LDAP
// only when a connection needs them (src/db/libpq_on_demand.cc). These tests
// watch the dynamic loader (LD_DEBUG=files names every library it loads) and
// check that libpq's GSSAPI and LDAP paths still reach the real libraries.
#include <unistd.h>

#include <fstream>

#include "db/libpq_on_demand.h"
#include "integration/runner_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

class LibpqOnDemandTest : public RunnerTest {
 protected:
  void SetUp() override {
    RunnerTest::SetUp();
    if (db::KerberosCredentialsMayExist("")) {
      GTEST_SKIP() << "this machine has Kerberos configuration or credentials; these tests need a machine without";
    }
  }
  // `current` against this test's database with extra URL parameters.
  RunResult Current(const std::string& params, std::map<std::string, std::string> env) {
    env["LD_DEBUG"] = "files";
    return SgRaw({"current", "--url", url_ + params, "--connect-timeout", "1s", "--log-format", "text"}, env);
  }
};

TEST_F(LibpqOnDemandTest, NoKerberosOrLdapLoadedForAPlainConnection) {
  RunResult r = Current("", {});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "file=libc.so.6");  // LD_DEBUG did report
  EXPECT_NOT_CONTAINS(r.err, "libgssapi_krb5");
  EXPECT_NOT_CONTAINS(r.err, "libldap");
}

// Without credentials libpq must give its own answer for gssencmode=require,
// as the shared libpq would.
TEST_F(LibpqOnDemandTest, GssEncryptionRequiredWithoutCredentialsFailsSayingWhy) {
  RunResult r = Current("?gssencmode=require", {});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "GSSAPI encryption required but was impossible");
  EXPECT_NOT_CONTAINS(r.err, "libgssapi_krb5");
}

// Where credentials may exist, the real Kerberos library is asked: here it
// finds none in the named cache, and the connection goes on without GSSAPI
// encryption (gssencmode=prefer) or fails as libpq says (require).
TEST_F(LibpqOnDemandTest, KerberosIsLoadedAndAskedWhenACredentialCacheIsNamed) {
  TempDir tmp;
  const std::map<std::string, std::string> env{{"KRB5CCNAME", "FILE:" + tmp.path() + "/krb5cc"}};
  RunResult prefer = Current("", env);
  EXPECT_EQ(prefer.exit_code, 0) << prefer.err;
  EXPECT_CONTAINS(prefer.err, "file=libgssapi_krb5.so.2");
  RunResult require = Current("?gssencmode=require", env);
  EXPECT_EQ(require.exit_code, 1) << require.err;
  EXPECT_CONTAINS(require.err, "file=libgssapi_krb5.so.2");
  EXPECT_CONTAINS(require.err, "GSSAPI encryption required but was impossible");
}

// A pg_service.conf entry that points to an LDAP server: libpq's lookup runs
// through the real OpenLDAP library. Nothing listens on port 1, so libpq
// finds the server unreachable and goes on to its defaults (no server on the
// default socket either). Without the library, libpq would stop at "could
// not create LDAP structure".
TEST_F(LibpqOnDemandTest, LdapServiceLookupReachesTheRealLdapLibrary) {
  TempDir tmp;
  const std::string services = tmp.path() + "/pg_service.conf";
  std::ofstream(services) << "[sg_ldap]\nldap://127.0.0.1:1/dc=example?uri?one?(cn=db)\n";
  RunResult r = SgRaw({"current", "--url", "postgresql:///?service=sg_ldap&host=" + tmp.path(), "--connect-timeout",
                       "1s", "--log-format", "text"},
                      {{"PGSERVICEFILE", services}, {"LD_DEBUG", "files"}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "file=libldap-2.5.so.0");
  EXPECT_NOT_CONTAINS(r.err, "LDAP structure");
  EXPECT_CONTAINS(r.err, tmp.path() + "/.s.PGSQL.5432");
}

}  // namespace
}  // namespace schemagate::testing
