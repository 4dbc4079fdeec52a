#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace schemagate {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kLibpqDefaults = "libpq defaults (PGHOST, PGDATABASE, ...)";
constexpr const char* kKnownTopLevelKeys =
    "(known: script_location, version_table, version_table_schema, log_table, environment, "
    "environments, lock_wait_timeout, connect_timeout, statement_timeout, lock_timeout, schema_location, "
    "dev_url)";

// The configuration from design.md §3, plus an environment without a URL.
constexpr const char* kDesignConfig =
    "script_location: migrations\n"
    "version_table: alembic_version\n"
    "version_table_schema: public\n"
    "environment: development\n"
    "environments:\n"
    "  development: { url: postgresql://postgres:postgres@localhost:5432/ocr_identity_db }\n"
    "  staging:     { url_env: STAGING_DATABASE_URL }\n"
    "  production:  { url_env: DATABASE_URL }\n"
    "  local:\n";

using EnvMap = std::map<std::string, std::string>;

GetEnv EnvOf(EnvMap vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sg-config-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cwd_ = fs::current_path();
  }
  void TearDown() override {
    fs::current_path(cwd_);
    fs::remove_all(dir_);
  }

  // Writes `text` to `name` under the test directory; returns its path.
  std::string WriteFile(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  // Flags that point -c at a schemagate.yaml holding `text`.
  Flags FileFlags(const std::string& text) {
    Flags flags;
    flags.config_path = WriteFile("schemagate.yaml", text);
    return flags;
  }
  std::string ConfigPath() const { return (dir_ / "schemagate.yaml").string(); }

  fs::path dir_;
  fs::path cwd_;
};

TEST_F(ConfigTest, FileSettingsApplyWhenNothingOverridesThem) {
  Flags flags = FileFlags(
      "script_location: db/migrations\n"
      "version_table: my_version\n"
      "version_table_schema: app\n"
      "log_table: my_log\n"
      "environment: staging\n"
      "environments:\n"
      "  staging: { url: postgresql://staging-db/app }\n"
      "lock_wait_timeout: 2m\n"
      "connect_timeout: 10\n"
      "statement_timeout: 1h\n"
      "lock_timeout: 500ms\n");
  Result<Settings> s = ResolveSettings(flags, EnvOf({}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->config_path, ConfigPath());
  EXPECT_EQ(s->script_location, (dir_ / "db/migrations").string());
  EXPECT_EQ(s->version_table, "my_version");
  EXPECT_EQ(s->version_table_schema, "app");
  EXPECT_EQ(s->log_table, "my_log");
  EXPECT_EQ(s->environment, "staging");
  EXPECT_EQ(s->url, "postgresql://staging-db/app");
  EXPECT_EQ(s->url_source, ConfigPath() + " environments.staging.url");
  EXPECT_EQ(s->lock_wait_timeout, minutes(2));
  EXPECT_EQ(s->connect_timeout, seconds(10));
  EXPECT_EQ(s->statement_timeout, std::optional<Millis>(hours(1)));
  EXPECT_EQ(s->lock_timeout, std::optional<Millis>(milliseconds(500)));
}

TEST_F(ConfigTest, DeclaredSchemaAndDevUrlComeFromFlagsThenEnvironmentThenFile) {
  Flags flags = FileFlags("schema_location: db/schema\ndev_url: postgresql://scratch-file/postgres\n");
  Result<Settings> s = ResolveSettings(flags, EnvOf({}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->schema_location, (dir_ / "db/schema").string());  // relative to the file
  EXPECT_EQ(s->dev_url, std::optional<std::string>("postgresql://scratch-file/postgres"));

  s = ResolveSettings(flags, EnvOf({{"SCHEMAGATE_DEV_URL", "postgresql://scratch-env/postgres"}}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->dev_url, std::optional<std::string>("postgresql://scratch-env/postgres"));

  flags.dev_url = "postgresql://scratch-flag/postgres";
  flags.schema_location = "elsewhere";
  s = ResolveSettings(flags, EnvOf({{"SCHEMAGATE_DEV_URL", "postgresql://scratch-env/postgres"}}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->dev_url, std::optional<std::string>("postgresql://scratch-flag/postgres"));
  EXPECT_EQ(s->schema_location, "elsewhere");  // a flag is taken as given

  s = ResolveSettings(FileFlags("script_location: m\n"), EnvOf({}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->schema_location, (dir_ / "schema").string());
  EXPECT_FALSE(s->dev_url.has_value()) << "no dev_url: a private server is started when needed";

  flags.dev_url = "";
  EXPECT_EQ(ResolveSettings(flags, EnvOf({})).status().code(), Code::kUsage);
}

TEST_F(ConfigTest, DefaultsApplyWhenThereIsNoConfigFile) {
  fs::current_path(dir_);  // holds no schemagate.yaml
  Result<Settings> s = ResolveSettings(Flags{}, EnvOf({}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->config_path, "");
  EXPECT_EQ(s->script_location, "migrations");
  EXPECT_EQ(s->version_table, "alembic_version");
  EXPECT_EQ(s->version_table_schema, "public");
  EXPECT_EQ(s->log_table, "schemagate_log");
  EXPECT_EQ(s->environment, "development");
  EXPECT_EQ(s->url, "");
  EXPECT_EQ(s->url_source, kLibpqDefaults);
  EXPECT_EQ(s->lock_wait_timeout, minutes(5));
  EXPECT_EQ(s->connect_timeout, seconds(30));
  EXPECT_EQ(s->statement_timeout, std::nullopt);
  EXPECT_EQ(s->lock_timeout, std::nullopt);
}

TEST_F(ConfigTest, ReadsSchemagateYamlFromTheWorkingDirectoryWithoutDashC) {
  WriteFile("schemagate.yaml", "script_location: sql\nenvironment: staging\n");
  fs::current_path(dir_);
  Result<Settings> s = ResolveSettings(Flags{}, EnvOf({}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->config_path, "schemagate.yaml");
  EXPECT_EQ(s->environment, "staging");
  EXPECT_EQ(s->script_location, "sql");  // relative to the working directory, where the file is
}

TEST_F(ConfigTest, EmptyOrCommentOnlyFileGivesTheDefaults) {
  for (const std::string text : {"", "\n\n", "# nothing configured yet\n", "---\n"}) {
    Result<Settings> s = ResolveSettings(FileFlags(text), EnvOf({}));
    ASSERT_TRUE(s.ok()) << testing::PrintToString(text) << ": " << s.status().message();
    EXPECT_EQ(s->config_path, ConfigPath());
    EXPECT_EQ(s->version_table, "alembic_version");
    EXPECT_EQ(s->environment, "development");
    EXPECT_EQ(s->url_source, kLibpqDefaults);
    EXPECT_EQ(s->script_location, (dir_ / "migrations").string());
  }
}

TEST_F(ConfigTest, EnvironmentComesFromFlagThenVariableThenFileThenDefault) {
  struct Case {
    std::string name;
    std::optional<std::string> flag;
    EnvMap env;
    std::string file;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"flag beats all",
       "production",
       {{"ENVIRONMENT", "staging"}},
       "environment: qa\n",
       "production"},
      {"variable beats file",
       std::nullopt,
       {{"ENVIRONMENT", "staging"}},
       "environment: qa\n",
       "staging"},
      {"empty variable is unset", std::nullopt, {{"ENVIRONMENT", ""}}, "environment: qa\n", "qa"},
      {"file beats default", std::nullopt, {}, "environment: qa\n", "qa"},
      {"default", std::nullopt, {}, "script_location: m\n", "development"},
  };
  for (const Case& c : cases) {
    Flags flags = FileFlags(c.file);
    flags.environment = c.flag;
    Result<Settings> s = ResolveSettings(flags, EnvOf(c.env));
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.status().message();
    EXPECT_EQ(s->environment, c.expected) << c.name;
  }
}

TEST_F(ConfigTest, UrlComesFromFlagThenDatabaseUrlThenTheEnvironmentInTheFile) {
  struct Case {
    std::string name;
    std::optional<std::string> flag;
    EnvMap env;
    std::string url;
    std::string source;  // "$FILE" stands for the config path
  };
  const std::string dev_url = "postgresql://postgres:postgres@localhost:5432/ocr_identity_db";
  const std::vector<Case> cases = {
      {"flag beats DATABASE_URL",
       "postgresql://flag/db",
       {{"DATABASE_URL", "postgresql://env/db"}},
       "postgresql://flag/db",
       "--url"},
      {"DATABASE_URL beats the file",
       std::nullopt,
       {{"DATABASE_URL", "postgresql://env/db"}},
       "postgresql://env/db",
       "DATABASE_URL"},
      {"DATABASE_URL beats url_env",
       std::nullopt,
       {{"ENVIRONMENT", "staging"},
        {"STAGING_DATABASE_URL", "postgresql://staging/db"},
        {"DATABASE_URL", "postgresql://env/db"}},
       "postgresql://env/db",
       "DATABASE_URL"},
      {"file url", std::nullopt, {}, dev_url, "$FILE environments.development.url"},
      {"empty DATABASE_URL is unset",
       std::nullopt,
       {{"DATABASE_URL", ""}},
       dev_url,
       "$FILE environments.development.url"},
      {"url_env",
       std::nullopt,
       {{"ENVIRONMENT", "staging"}, {"STAGING_DATABASE_URL", "postgresql://staging/db"}},
       "postgresql://staging/db",
       "STAGING_DATABASE_URL (environments.staging.url_env)"},
      {"url_env naming DATABASE_URL",
       std::nullopt,
       {{"ENVIRONMENT", "production"}, {"DATABASE_URL", "postgresql://prod/db"}},
       "postgresql://prod/db",
       "DATABASE_URL"},
      {"environment without a URL", std::nullopt, {{"ENVIRONMENT", "local"}}, "", kLibpqDefaults},
  };
  for (const Case& c : cases) {
    Flags flags = FileFlags(kDesignConfig);
    flags.url = c.flag;
    Result<Settings> s = ResolveSettings(flags, EnvOf(c.env));
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.status().message();
    EXPECT_EQ(s->url, c.url) << c.name;
    std::string source = c.source;
    if (source.rfind("$FILE", 0) == 0) source = ConfigPath() + source.substr(5);
    EXPECT_EQ(s->url_source, source) << c.name;
  }
}

TEST_F(ConfigTest, FileWithoutEnvironmentsLeavesTheUrlToLibpq) {
  Result<Settings> s =
      ResolveSettings(FileFlags("script_location: m\n"), EnvOf({{"ENVIRONMENT", "anything"}}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->environment, "anything");
  EXPECT_EQ(s->url, "");
  EXPECT_EQ(s->url_source, kLibpqDefaults);
}

TEST_F(ConfigTest, DurationsComeFromFlagThenFileThenDefault) {
  struct Case {
    std::string setting;  // the file key
    std::optional<std::string> Flags::*flag;
    std::optional<Millis> (*get)(const Settings&);
    std::optional<Millis> fallback;
  };
  const std::vector<Case> cases = {
      {"lock_wait_timeout", &Flags::lock_wait_timeout,
       [](const Settings& s) { return std::optional<Millis>(s.lock_wait_timeout); }, minutes(5)},
      {"connect_timeout", &Flags::connect_timeout,
       [](const Settings& s) { return std::optional<Millis>(s.connect_timeout); }, seconds(30)},
      {"statement_timeout", &Flags::statement_timeout,
       [](const Settings& s) { return s.statement_timeout; }, std::nullopt},
      {"lock_timeout", &Flags::lock_timeout, [](const Settings& s) { return s.lock_timeout; },
       std::nullopt},
  };
  for (const Case& c : cases) {
    Result<Settings> by_default = ResolveSettings(FileFlags("script_location: m\n"), EnvOf({}));
    ASSERT_TRUE(by_default.ok()) << by_default.status().message();
    EXPECT_EQ(c.get(*by_default), c.fallback) << c.setting;

    Flags from_file = FileFlags(c.setting + ": 1h30m\n");
    Result<Settings> filed = ResolveSettings(from_file, EnvOf({}));
    ASSERT_TRUE(filed.ok()) << filed.status().message();
    EXPECT_EQ(c.get(*filed), std::optional<Millis>(minutes(90))) << c.setting;

    Flags flagged = FileFlags(c.setting + ": 1h30m\n");
    flagged.*c.flag = "45";
    Result<Settings> overridden = ResolveSettings(flagged, EnvOf({}));
    ASSERT_TRUE(overridden.ok()) << overridden.status().message();
    EXPECT_EQ(c.get(*overridden), std::optional<Millis>(seconds(45))) << c.setting;
  }
}

TEST_F(ConfigTest, UnsetOrEmptyUrlEnvSaysWhichVariableToSet) {
  struct Case {
    std::string environment;
    EnvMap env;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"staging",
       {},
       "environment 'staging' reads its database URL from STAGING_DATABASE_URL "
       "(environments.staging.url_env in "},
      {"staging", {}, "which is not set: set STAGING_DATABASE_URL to the database URL"},
      {"staging", {{"STAGING_DATABASE_URL", ""}}, "which is empty: set STAGING_DATABASE_URL"},
      {"production", {}, "which is not set: set DATABASE_URL to the database URL"},
  };
  for (const Case& c : cases) {
    Flags flags = FileFlags(kDesignConfig);
    flags.environment = c.environment;
    // Resolving succeeds (commands that never connect need no URL); the
    // error waits for the first connection.
    Result<Settings> s = ResolveSettings(flags, EnvOf(c.env));
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->url, "");
    EXPECT_EQ(s->url_error.code(), Code::kUsage) << c.expected;
    EXPECT_NE(s->url_error.message().find(c.expected), std::string::npos) << s->url_error.message();
  }
  Flags flags = FileFlags(kDesignConfig);
  flags.environment = "production";
  Result<Settings> s = ResolveSettings(flags, EnvOf({{"DATABASE_URL", "postgresql://db/app"}}));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->url_error.ok());
}

TEST_F(ConfigTest, UnlistedEnvironmentNamesTheKnownOnesUnlessTheUrlComesFromElsewhere) {
  Flags by_variable = FileFlags(kDesignConfig);
  Result<Settings> s = ResolveSettings(by_variable, EnvOf({{"ENVIRONMENT", "qa"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUsage);
  EXPECT_NE(
      s.status().message().find("environment 'qa' (from ENVIRONMENT) is not listed in " +
                                ConfigPath() + " (known: development, local, production, staging)"),
      std::string::npos)
      << s.status().message();

  Flags by_flag = FileFlags(kDesignConfig);
  by_flag.environment = "qa";
  s = ResolveSettings(by_flag, EnvOf({}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("environment 'qa' (from --env)"), std::string::npos)
      << s.status().message();

  // A URL from --url or DATABASE_URL makes the name only select env: sections.
  Flags with_url = FileFlags(kDesignConfig);
  with_url.environment = "qa";
  with_url.url = "postgresql://flag/db";
  s = ResolveSettings(with_url, EnvOf({}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->environment, "qa");
  s = ResolveSettings(FileFlags(kDesignConfig),
                      EnvOf({{"ENVIRONMENT", "qa"}, {"DATABASE_URL", "postgresql://env/db"}}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->url, "postgresql://env/db");
}

TEST(ParseConfigFile, UnknownKeyIsReportedWithItsLineAndASuggestion) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"# schemagate\n"
       "version_table: alembic_version\n"
       "version_table_schema: public\n"
       "environment: development\n"
       "environments:\n"
       "  development: { url: postgresql://localhost/app }\n"
       "scrip_location: migrations\n",
       std::string("schemagate.yaml:7: unknown key 'scrip_location' ") + kKnownTopLevelKeys +
           "; did you mean 'script_location'?"},
      {"Version_Table: v\n", std::string("schemagate.yaml:1: unknown key 'Version_Table' ") +
                                 kKnownTopLevelKeys + "; did you mean 'version_table'?"},
      {"lock_timout: 5s\n", std::string("schemagate.yaml:1: unknown key 'lock_timout' ") +
                                kKnownTopLevelKeys + "; did you mean 'lock_timeout'?"},
      {"colour: blue\n",
       std::string("schemagate.yaml:1: unknown key 'colour' ") + kKnownTopLevelKeys},
      {"environments:\n"
       "  dev:\n"
       "    uri: postgresql://localhost/app\n",
       "schemagate.yaml:3: unknown key 'uri' in environments.dev (known: url, url_env); did you "
       "mean 'url'?"},
      {"environments:\n"
       "  dev: { url_env: DEV_URL, password: x }\n",
       "schemagate.yaml:2: unknown key 'password' in environments.dev (known: url, url_env)"},
      {"<<: { script_location: m }\n",
       std::string("schemagate.yaml:1: unknown key '<<' ") + kKnownTopLevelKeys +
           "; YAML merge keys are not supported, write the settings out"},
  };
  for (const Case& c : cases) {
    Result<ConfigFile> r = ParseConfigFile("schemagate.yaml", c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kUsage);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(ParseConfigFile, RejectsWrongTypesDuplicatesAndMalformedYamlNamingTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"script_location: [a, b]\n",
       "schemagate.yaml:1: 'script_location' must be a single value, not a list"},
      {"version_table:\n  name: v\n",
       "schemagate.yaml:1: 'version_table' must be a single value, not a mapping"},
      {"script_location: m\nenvironment:\n", "schemagate.yaml:2: 'environment' has no value"},
      {"script_location: ''\n", "schemagate.yaml:1: 'script_location' is empty"},
      {"lock_timeout: [1s]\n", "schemagate.yaml:1: 'lock_timeout' must be a single value"},
      {"environments: [dev]\n", "schemagate.yaml:1: 'environments' must map environment names"},
      {"environments: production\n", "schemagate.yaml:1: 'environments' must map environment"},
      {"environments:\n  dev: postgresql://localhost/app\n",
       "schemagate.yaml:2: environments.dev must be a mapping like { url: postgresql://... }"},
      {"environments:\n  dev: { url: [a] }\n",
       "schemagate.yaml:2: 'environments.dev.url' must be a single value, not a list"},
      {"environments:\n  dev: { url: postgresql://h/db, url_env: DEV_URL }\n",
       "schemagate.yaml:2: environments.dev sets both url and url_env; keep one"},
      {"environments:\n  dev: { url_env: $DEV_URL }\n",
       "schemagate.yaml:2: environments.dev.url_env must name an environment variable (write "
       "DEV_URL without the '$')"},
      {"environments:\n  dev: { url_env: DEV-URL }\n",
       "environments.dev.url_env must name an environment variable (letters, digits and _)"},
      {"script_location: a\nversion_table: v\nscript_location: b\n",
       "schemagate.yaml:3: duplicate key 'script_location' (first set on line 1)"},
      {"environments:\n  dev: { url: a, url: b }\n",
       "schemagate.yaml:2: duplicate key 'url' in environments.dev"},
      {"environments:\n  dev: {}\n  dev: {}\n",
       "schemagate.yaml:3: environment 'dev' is listed twice"},
      {"? [a, b]\n: c\n", "schemagate.yaml:1: a key must be a plain word"},
      {"- script_location\n- migrations\n",
       "schemagate.yaml:1: expected settings as 'key: value' lines"},
      {"just some text\n", "schemagate.yaml:1: expected settings as 'key: value' lines"},
      {"script_location: a: b\n", "schemagate.yaml:1: not valid YAML: illegal map value"},
      {"script_location: m\nenvironments:\n\tdev: {}\n", "schemagate.yaml:3: not valid YAML"},
      {"environments: { dev: { url: x }\n", "schemagate.yaml:2: not valid YAML"},
      {"version_table: *nowhere\n", "schemagate.yaml:1: not valid YAML"},
      {"---\nscript_location: a\n---\nscript_location: b\n",
       "schemagate.yaml:4: a second YAML document"},
      {"log_table: alembic_version\n",
       "schemagate.yaml:1: log_table and version_table are both 'alembic_version'"},
      {"script_location: m\nversion_table: schemagate_log\n",
       "schemagate.yaml:2: log_table and version_table are both 'schemagate_log'"},
  };
  for (const auto& [text, expected] : cases) {
    Result<ConfigFile> r = ParseConfigFile("schemagate.yaml", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kUsage) << text;
    EXPECT_NE(r.status().message().find(expected), std::string::npos)
        << text << "\n-> " << r.status().message();
  }
}

TEST(ParseConfigFile, UrlEnvHoldingAUrlIsRejectedWithoutEchoingIt) {
  Result<ConfigFile> r = ParseConfigFile(
      "schemagate.yaml", "environments:\n  prod: { url_env: 'postgresql://app:Secret9@db/app' }\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("url_env names a variable; put a literal URL under url"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("Secret9"), std::string::npos) << r.status().message();
}

TEST(ParseConfigFile, TableAndSchemaNamesMustBeIdentifiers) {
  const std::vector<std::string> invalid = {
      "bad name",   "1abc",       "a-b",       "$x",
      "users;drop", "\"quoted\"", "t\xC3\xA4", std::string(64, 'a')};
  const std::vector<std::string> valid = {"_x", "a$b", "Alembic_Version", "v2",
                                          std::string(63, 'a')};
  for (const std::string key : {"version_table", "version_table_schema", "log_table"}) {
    for (const std::string& name : invalid) {
      Result<ConfigFile> r = ParseConfigFile("schemagate.yaml", key + ": '" + name + "'\n");
      ASSERT_FALSE(r.ok()) << key << " " << name;
      EXPECT_EQ(r.status().code(), Code::kUsage);
      EXPECT_NE(r.status().message().find("schemagate.yaml:1: " + key + " '" + name +
                                          "' is not a valid identifier"),
                std::string::npos)
          << r.status().message();
    }
    for (const std::string& name : valid) {
      Result<ConfigFile> r = ParseConfigFile("schemagate.yaml", key + ": '" + name + "'\n");
      ASSERT_TRUE(r.ok()) << key << " " << name << ": " << r.status().message();
    }
  }
}

TEST(ParseConfigFile, BadDurationsNameTheSettingAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"lock_wait_timeout: 5 minutes\n",
       "schemagate.yaml:1: lock_wait_timeout: invalid duration '5 minutes'"},
      {"script_location: m\nconnect_timeout: -1\n",
       "schemagate.yaml:2: connect_timeout: invalid duration '-1'"},
      {"statement_timeout: 1.5s\n",
       "schemagate.yaml:1: statement_timeout: invalid duration '1.5s'"},
      {"lock_timeout: 1000h\n",
       "schemagate.yaml:1: lock_timeout: 1000h is more than PostgreSQL accepts (at most "
       "596h31m23s; 0 turns it off)"},
      {"statement_timeout: 596h31m24s\n", "statement_timeout: 596h31m24s is more than PostgreSQL"},
  };
  for (const auto& [text, expected] : cases) {
    Result<ConfigFile> r = ParseConfigFile("schemagate.yaml", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kUsage);
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
  // The limit itself, and a long advisory-lock wait, are fine.
  EXPECT_TRUE(ParseConfigFile("f", "statement_timeout: 596h31m23s\n").ok());
  EXPECT_TRUE(ParseConfigFile("f", "lock_wait_timeout: 1000h\n").ok());
}

TEST_F(ConfigTest, BadDurationFlagsNameTheFlag) {
  struct Case {
    std::optional<std::string> Flags::*flag;
    std::string value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {&Flags::lock_wait_timeout, "soon", "--lock-timeout: invalid duration 'soon'"},
      {&Flags::connect_timeout, "", "--connect-timeout: invalid duration ''"},
      {&Flags::statement_timeout, "5 m", "--statement-timeout: invalid duration '5 m'"},
      {&Flags::lock_timeout, "1000h", "--db-lock-timeout: 1000h is more than PostgreSQL accepts"},
  };
  for (const Case& c : cases) {
    Flags flags = FileFlags("script_location: m\n");
    flags.*c.flag = c.value;
    Result<Settings> s = ResolveSettings(flags, EnvOf({}));
    ASSERT_FALSE(s.ok()) << c.expected;
    EXPECT_EQ(s.status().code(), Code::kUsage);
    EXPECT_EQ(s.status().message().rfind(c.expected, 0), 0u) << s.status().message();
  }
}

TEST_F(ConfigTest, BadFileValueIsAnErrorEvenWhenAFlagOverridesIt) {
  Flags flags = FileFlags("lock_wait_timeout: later\n");
  flags.lock_wait_timeout = "30s";
  Result<Settings> s = ResolveSettings(flags, EnvOf({}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(":1: lock_wait_timeout: invalid duration 'later'"),
            std::string::npos)
      << s.status().message();
}

TEST_F(ConfigTest, FileErrorsNameTheFileGivenWithDashC) {
  Result<Settings> s =
      ResolveSettings(FileFlags("script_location: m\nscrip_location: x\n"), EnvOf({}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUsage);
  EXPECT_EQ(s.status().message().rfind(ConfigPath() + ":2: unknown key 'scrip_location'", 0), 0u)
      << s.status().message();
}

TEST_F(ConfigTest, ExplicitConfigPathMustExistAndBeAFile) {
  Flags missing;
  missing.config_path = (dir_ / "nope.yaml").string();
  Result<Settings> s = ResolveSettings(missing, EnvOf({}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUsage);
  EXPECT_EQ(s.status().message(),
            "config file '" + *missing.config_path + "' (given with -c) does not exist");

  Flags directory;
  directory.config_path = dir_.string();
  s = ResolveSettings(directory, EnvOf({}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("is a directory"), std::string::npos) << s.status().message();
}

TEST_F(ConfigTest, EmptyFlagValuesAreUsageErrors) {
  struct Case {
    std::optional<std::string> Flags::*flag;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {&Flags::config_path, "-c: the config file path is empty"},
      {&Flags::url, "--url: the URL is empty"},
      {&Flags::environment, "--env: the environment name is empty"},
      {&Flags::script_location, "--script-location: the directory is empty"},
  };
  for (const Case& c : cases) {
    Flags flags = FileFlags("script_location: m\n");
    flags.*c.flag = "";
    Result<Settings> s = ResolveSettings(flags, EnvOf({}));
    ASSERT_FALSE(s.ok()) << c.expected;
    EXPECT_EQ(s.status().code(), Code::kUsage);
    EXPECT_EQ(s.status().message().rfind(c.expected, 0), 0u) << s.status().message();
  }
}

TEST_F(ConfigTest, ScriptLocationIsRelativeToTheConfigFileAndAFlagIsTakenAsGiven) {
  struct Case {
    std::string file_value;
    std::optional<std::string> flag;
    std::string expected;  // "$DIR" stands for the config file's directory
  };
  const std::vector<Case> cases = {
      {"migrations", std::nullopt, "$DIR/migrations"},
      {"../shared/sql", std::nullopt, "$DIR/../shared/sql"},
      {"/opt/app/migrations", std::nullopt, "/opt/app/migrations"},
      {"migrations", "other/place", "other/place"},
  };
  for (const Case& c : cases) {
    Flags flags;
    flags.config_path =
        WriteFile("conf/sub/schemagate.yaml", "script_location: " + c.file_value + "\n");
    flags.script_location = c.flag;
    Result<Settings> s = ResolveSettings(flags, EnvOf({}));
    ASSERT_TRUE(s.ok()) << s.status().message();
    std::string expected = c.expected;
    if (expected.rfind("$DIR", 0) == 0)
      expected = (dir_ / "conf/sub").string() + expected.substr(4);
    EXPECT_EQ(s->script_location, expected) << c.file_value;
  }
}

TEST(ProcessEnvironment, ReadsTheProcessEnvironment) {
  const std::string name = "SG_CONFIG_TEST_" + std::to_string(getpid());
  ASSERT_EQ(setenv(name.c_str(), "value-1", 1), 0);
  EXPECT_EQ(ProcessEnvironment()(name), std::optional<std::string>("value-1"));
  ASSERT_EQ(unsetenv(name.c_str()), 0);
  EXPECT_EQ(ProcessEnvironment()(name), std::nullopt);
}

}  // namespace
}  // namespace schemagate
