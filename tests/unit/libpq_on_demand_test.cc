// When may this process hold Kerberos credentials? The answer decides
// whether a connection loads the Kerberos libraries (src/db/libpq_on_demand.cc).
#include "db/libpq_on_demand.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace schemagate::db {
namespace {

namespace fs = std::filesystem;

// A fake filesystem root, and an environment without KRB5* or GSS_*
// variables (restored afterwards).
class KerberosCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sg-krb5-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "etc/gss/mech.d");  // as Debian ships it: empty
    for (char** var = environ; *var != nullptr; ++var) {
      std::string entry = *var;
      if (entry.rfind("KRB5", 0) == 0 || entry.rfind("GSS_", 0) == 0) saved_.push_back(entry);
    }
    for (const std::string& entry : saved_) unsetenv(entry.substr(0, entry.find('=')).c_str());
  }
  void TearDown() override {
    unsetenv("KRB5CCNAME");
    unsetenv("GSS_USE_PROXY");
    for (const std::string& entry : saved_) {
      const size_t eq = entry.find('=');
      setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
    }
    fs::remove_all(root_);
  }
  void Touch(const std::string& relative) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << "";
  }
  bool MayExist() { return KerberosCredentialsMayExist(root_.string()); }

  fs::path root_;
  std::vector<std::string> saved_;
};

TEST_F(KerberosCredentialsTest, NoneWithoutConfigurationCacheOrEnvironment) { EXPECT_FALSE(MayExist()); }

TEST_F(KerberosCredentialsTest, AKerberosProfileMeansThereMayBe) {
  Touch("etc/krb5.conf");
  EXPECT_TRUE(MayExist());
}

TEST_F(KerberosCredentialsTest, TheDefaultCredentialCacheMeansThereMayBe) {
  Touch("tmp/krb5cc_" + std::to_string(geteuid()));
  EXPECT_TRUE(MayExist());
}

TEST_F(KerberosCredentialsTest, TheDefaultClientKeytabMeansThereMayBe) {
  Touch("etc/krb5/user/" + std::to_string(geteuid()) + "/client.keytab");
  EXPECT_TRUE(MayExist());
}

TEST_F(KerberosCredentialsTest, AGssMechanismConfigurationMeansThereMayBe) {
  Touch("etc/gss/mech.d/gssntlmssp.conf");
  EXPECT_TRUE(MayExist());
}

TEST_F(KerberosCredentialsTest, AnyKrb5OrGssVariableMeansThereMayBe) {
  setenv("KRB5CCNAME", "FILE:/nowhere", 1);
  EXPECT_TRUE(MayExist());
  unsetenv("KRB5CCNAME");
  setenv("GSS_USE_PROXY", "yes", 1);
  EXPECT_TRUE(MayExist());
}

}  // namespace
}  // namespace schemagate::db
