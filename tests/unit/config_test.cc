#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace schemagate {
namespace {

namespace fs = std::filesystem;

GetEnv EnvOf(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sg-config-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "schemagate.yaml").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  Flags WithFile() {
    Flags f;
    f.config_path = path_;
    return f;
  }
  fs::path dir_;
  std::string path_;
};

constexpr const char* kSeedConfig =
    "script_location: migrations\n"
    "environment: development\n"
    "environments:\n"
    "  development: { url: postgresql://postgres:postgres@localhost:5432/ocr_identity_db }\n"
    "  staging:     { url_env: STAGING_DATABASE_URL }\n"
    "  production:  { url_env: DATABASE_URL }\n";

TEST_F(ConfigTest, FileDefaultsAndRelativeScriptLocation) {
  Write(kSeedConfig);
  auto s = ResolveSettings(WithFile(), EnvOf({}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->environment, "development");
  EXPECT_EQ(s->url, "postgresql://postgres:postgres@localhost:5432/ocr_identity_db");
  EXPECT_EQ(s->script_location, (dir_ / "migrations").string());
  EXPECT_EQ(s->version_table, "alembic_version");
  EXPECT_EQ(s->lock_wait_timeout, std::chrono::minutes(5));
}

TEST_F(ConfigTest, PrecedenceFlagsOverEnvironmentOverFile) {
  Write(kSeedConfig);
  // ENVIRONMENT beats the file; the environment's url_env supplies the URL.
  auto staging = ResolveSettings(WithFile(), EnvOf({{"ENVIRONMENT", "staging"}, {"STAGING_DATABASE_URL", "postgresql://s/db"}}));
  ASSERT_TRUE(staging.ok()) << staging.status().message();
  EXPECT_EQ(staging->environment, "staging");
  EXPECT_EQ(staging->url, "postgresql://s/db");
  // DATABASE_URL beats any URL in the file.
  auto env_url = ResolveSettings(WithFile(), EnvOf({{"DATABASE_URL", "postgresql://env/db"}}));
  EXPECT_EQ(env_url->url, "postgresql://env/db");
  EXPECT_EQ(env_url->url_source, "DATABASE_URL");
  // Flags beat both.
  Flags f = WithFile();
  f.url = "postgresql://flag/db";
  f.environment = "production";
  f.lock_wait_timeout = "30s";
  auto flagged = ResolveSettings(f, EnvOf({{"DATABASE_URL", "postgresql://env/db"}, {"ENVIRONMENT", "staging"}}));
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->url, "postgresql://flag/db");
  EXPECT_EQ(flagged->environment, "production");
  EXPECT_EQ(flagged->lock_wait_timeout, std::chrono::seconds(30));
}

TEST_F(ConfigTest, UnsetUrlEnvSaysWhichVariableToSet) {
  Write(kSeedConfig);
  Flags f = WithFile();
  f.environment = "staging";
  auto s = ResolveSettings(f, EnvOf({}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUsage);
  EXPECT_NE(s.status().message().find("STAGING_DATABASE_URL"), std::string::npos);
}

TEST_F(ConfigTest, UnknownEnvironmentListsTheKnownOnes) {
  Write(kSeedConfig);
  auto s = ResolveSettings(WithFile(), EnvOf({{"ENVIRONMENT", "qa"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("development, production, staging"), std::string::npos);
  // With a URL from elsewhere any environment name is fine (it selects sections).
  auto ok = ResolveSettings(WithFile(), EnvOf({{"ENVIRONMENT", "qa"}, {"DATABASE_URL", "postgresql://x/y"}}));
  EXPECT_TRUE(ok.ok());
}

TEST_F(ConfigTest, RejectsBadFilesWithLineNumbers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"script_location: m\nscrip_location: x\n", "schemagate.yaml:2: unknown key 'scrip_location' (did you mean 'script_location'?)"},
      {"environments:\n  dev:\n    uri: x\n", ":3: unknown key 'environments.dev.uri'"},
      {"version_table: \"bad name\"\n", ":1: version_table 'bad name' is not a valid identifier"},
      {"script_location: [a, b]\n", ":1: 'script_location' must be a single value"},
      {"environments: [a]\n", "'environments' must map"},
      {"a: b: c\n", "not valid YAML"},
      {"lock_wait_timeout: 5 minutes\n", "invalid duration '5 minutes'"},
  };
  for (const auto& [text, expected] : cases) {
    Write(text);
    auto s = ResolveSettings(WithFile(), EnvOf({}));
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), Code::kUsage) << text;
    EXPECT_NE(s.status().message().find(expected), std::string::npos) << s.status().message();
  }
}

TEST_F(ConfigTest, MissingExplicitFileIsAnErrorButEmptyFileIsDefaults) {
  Flags f;
  f.config_path = (dir_ / "nope.yaml").string();
  EXPECT_EQ(ResolveSettings(f, EnvOf({})).status().code(), Code::kUsage);
  Write("");
  auto s = ResolveSettings(WithFile(), EnvOf({}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->environment, "development");
}

}  // namespace
}  // namespace schemagate
