#include "core/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace schemagate {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLibpqDefaults = "libpq defaults (PGHOST, PGDATABASE, ...)";
constexpr size_t kMaxIdentifierBytes = 63;  // PostgreSQL's NAMEDATALEN - 1

// In the order design.md §3 lists them; messages show this order.
constexpr std::array<std::string_view, 12> kTopLevelKeys = {
    "script_location",   "version_table", "version_table_schema", "log_table",
    "environment",       "environments",  "lock_wait_timeout",    "connect_timeout",
    "statement_timeout", "lock_timeout",  "schema_location",      "dev_url"};
constexpr std::array<std::string_view, 2> kEnvironmentKeys = {"url", "url_env"};

// PostgreSQL keeps statement_timeout and lock_timeout as int milliseconds.
constexpr int64_t kMaxPostgresTimeoutMillis = INT_MAX;

std::string At(const std::string& path, int line) { return path + ":" + std::to_string(line); }

// A directory setting: the flag as given (relative to the working
// directory), else the file's value relative to the file's directory.
Result<std::string> ResolveDirectory(const std::optional<std::string>& flag, const char* flag_name,
                                     const std::string& from_file, const std::string& config_path) {
  if (flag) {
    if (flag->empty()) return Status::Usage(std::string(flag_name) + ": the directory is empty");
    return *flag;
  }
  const fs::path location(from_file);
  const fs::path base = fs::path(config_path).parent_path();
  return location.is_absolute() || base.empty() ? location.string() : (base / location).string();
}

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

template <size_t N>
std::string JoinKeys(const std::array<std::string_view, N>& keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// Levenshtein distance, ignoring case.
size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    prev.swap(cur);
  }
  return prev[b.size()];
}

// "<path>:<line>: unknown key 'k' [in <where>] (known: ...)[; did you mean 'x'?]"
template <size_t N>
Status UnknownKey(const std::string& path, int line, const std::string& key,
                  const std::string& where, const std::array<std::string_view, N>& known) {
  const size_t max_distance = key.size() <= 4 ? 1 : 2;
  std::string_view best;
  size_t best_distance = max_distance + 1;
  for (std::string_view k : known) {
    const size_t d = EditDistance(key, k);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  std::string message = At(path, line) + ": unknown key '" + key + "'" +
                        (where.empty() ? "" : " in " + where) + " (known: " + JoinKeys(known) + ")";
  if (!best.empty()) message += "; did you mean '" + std::string(best) + "'?";
  if (key == "<<") message += "; YAML merge keys are not supported, write the settings out";
  return Status::Usage(message);
}

// A non-empty single value for `name`; errors point at the key's line.
Result<std::string> StringValue(const std::string& path, const YAML::Node& key,
                                const YAML::Node& value, const std::string& name) {
  const std::string where = At(path, LineOf(key)) + ": '" + name + "'";
  if (value.IsNull()) return Status::Usage(where + " has no value");
  if (value.IsSequence()) return Status::Usage(where + " must be a single value, not a list");
  if (value.IsMap()) return Status::Usage(where + " must be a single value, not a mapping");
  if (value.Scalar().empty()) return Status::Usage(where + " is empty");
  return value.Scalar();
}

bool IsIdentifier(std::string_view s) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || s.size() > kMaxIdentifierBytes || !letter(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '$'; });
}

bool IsVariableName(std::string_view s) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !letter(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

// A duration setting; `setting` names it in errors ("--lock-timeout",
// "schemagate.yaml:4: lock_timeout"). `postgres` settings must also fit
// PostgreSQL's int milliseconds.
Result<Millis> ParseDurationSetting(const std::string& setting, const std::string& text,
                                    bool postgres) {
  auto d = ParseDuration(text);
  if (!d.ok()) return d.status().Prefixed(setting);
  if (postgres && d->count() > kMaxPostgresTimeoutMillis) {
    return Status::Usage(
        setting + ": " + FormatDuration(*d) + " is more than PostgreSQL accepts (at most " +
        FormatDuration(Millis(kMaxPostgresTimeoutMillis / 1000 * 1000)) + "; 0 turns it off)");
  }
  return *d;
}

bool IsPostgresSetting(std::string_view key) {
  return key == "statement_timeout" || key == "lock_timeout";
}

bool IsDurationSetting(std::string_view key) {
  return key == "lock_wait_timeout" || key == "connect_timeout" || IsPostgresSetting(key);
}

bool IsIdentifierSetting(std::string_view key) {
  return key == "version_table" || key == "version_table_schema" || key == "log_table";
}

Result<EnvironmentConfig> ParseEnvironment(const std::string& path, const std::string& name,
                                           const YAML::Node& key, const YAML::Node& value) {
  EnvironmentConfig env;
  if (value.IsNull()) return env;  // listed without a URL: libpq defaults
  const std::string where = "environments." + name;
  if (!value.IsMap()) {
    return Status::Usage(At(path, LineOf(key)) + ": " + where +
                         " must be a mapping like { url: postgresql://... } or "
                         "{ url_env: VARIABLE }");
  }
  std::set<std::string> seen;
  for (const auto& field : value) {
    const int line = LineOf(field.first);
    if (!field.first.IsScalar()) {
      return Status::Usage(At(path, line) + ": a key must be a plain word");
    }
    const std::string field_name = field.first.Scalar();
    if (std::find(kEnvironmentKeys.begin(), kEnvironmentKeys.end(), field_name) ==
        kEnvironmentKeys.end()) {
      return UnknownKey(path, line, field_name, where, kEnvironmentKeys);
    }
    if (!seen.insert(field_name).second) {
      return Status::Usage(At(path, line) + ": duplicate key '" + field_name + "' in " + where);
    }
    auto text = StringValue(path, field.first, field.second, where + "." + field_name);
    if (!text.ok()) return text.status();
    if (field_name == "url") {
      env.url = *text;
      continue;
    }
    if (!IsVariableName(*text)) {
      std::string hint = "letters, digits and _";
      if ((*text)[0] == '$') {
        hint = "write " + text->substr(1) + " without the '$'";
      } else if (text->find("://") != std::string::npos) {
        hint = "url_env names a variable; put a literal URL under url";
      }
      // The value may be a URL with a password: do not echo it.
      return Status::Usage(At(path, line) + ": " + where +
                           ".url_env must name an environment variable (" + hint + ")");
    }
    env.url_env = *text;
  }
  if (!env.url.empty() && !env.url_env.empty()) {
    return Status::Usage(At(path, LineOf(key)) + ": " + where +
                         " sets both url and url_env; keep one");
  }
  return env;
}

Status ParseEnvironments(const std::string& path, const YAML::Node& key, const YAML::Node& value,
                         ConfigFile& config) {
  if (value.IsNull()) return Status::Ok();
  if (!value.IsMap()) {
    return Status::Usage(At(path, LineOf(key)) +
                         ": 'environments' must map environment names to { url: ... } or "
                         "{ url_env: ... }");
  }
  for (const auto& entry : value) {
    const int line = LineOf(entry.first);
    if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
      return Status::Usage(At(path, line) + ": an environment name must be a plain word");
    }
    const std::string name = entry.first.Scalar();
    if (config.environments.count(name) != 0) {
      return Status::Usage(At(path, line) + ": environment '" + name + "' is listed twice");
    }
    auto env = ParseEnvironment(path, name, entry.first, entry.second);
    if (!env.ok()) return env.status();
    config.environments.emplace(name, std::move(env.value()));
  }
  return Status::Ok();
}

Status ParseTopLevel(const std::string& path, const YAML::Node& root, ConfigFile& config) {
  if (!root.IsMap()) {
    return Status::Usage(
        At(path, LineOf(root)) +
        ": expected settings as 'key: value' lines (known keys: " + JoinKeys(kTopLevelKeys) + ")");
  }
  std::map<std::string, int> lines;  // key -> line, to find duplicates
  for (const auto& entry : root) {
    const YAML::Node& key_node = entry.first;
    const YAML::Node& value = entry.second;
    const int line = LineOf(key_node);
    if (!key_node.IsScalar()) return Status::Usage(At(path, line) + ": a key must be a plain word");
    const std::string key = key_node.Scalar();
    if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) == kTopLevelKeys.end()) {
      return UnknownKey(path, line, key, "", kTopLevelKeys);
    }
    if (auto [it, inserted] = lines.emplace(key, line); !inserted) {
      return Status::Usage(At(path, line) + ": duplicate key '" + key + "' (first set on line " +
                           std::to_string(it->second) + ")");
    }
    if (key == "environments") {
      SG_RETURN_IF_ERROR(ParseEnvironments(path, key_node, value, config));
      continue;
    }
    auto text = StringValue(path, key_node, value, key);
    if (!text.ok()) return text.status();
    if (IsIdentifierSetting(key) && !IsIdentifier(*text)) {
      return Status::Usage(At(path, line) + ": " + key + " '" + *text +
                           "' is not a valid identifier (letters, digits, _ and $, starting "
                           "with a letter or _, at most 63 bytes)");
    }
    if (IsDurationSetting(key)) {
      auto d = ParseDurationSetting(At(path, line) + ": " + key, *text, IsPostgresSetting(key));
      if (!d.ok()) return d.status();
    }
    if (key == "script_location") {
      config.script_location = *text;
    } else if (key == "schema_location") {
      config.schema_location = *text;
    } else if (key == "dev_url") {
      config.dev_url = *text;
    } else if (key == "environment") {
      config.environment = *text;
    } else if (key == "version_table") {
      config.version_table = *text;
    } else if (key == "version_table_schema") {
      config.version_table_schema = *text;
    } else if (key == "log_table") {
      config.log_table = *text;
    } else if (key == "lock_wait_timeout") {
      config.lock_wait_timeout = *text;
    } else if (key == "connect_timeout") {
      config.connect_timeout = *text;
    } else if (key == "statement_timeout") {
      config.statement_timeout = *text;
    } else if (key == "lock_timeout") {
      config.lock_timeout = *text;
    }
  }
  if (config.log_table == config.version_table) {
    const int line = lines.count("log_table") ? lines["log_table"] : lines["version_table"];
    return Status::Usage(At(path, line) + ": log_table and version_table are both '" +
                         config.log_table + "'; they must be different tables");
  }
  return Status::Ok();
}

// Where each document's root node starts. YAML::LoadAll is not used: for a
// stray ',' outside any collection yaml-cpp 0.7 returns an empty document
// without consuming the ',', and LoadAll then asks for documents forever.
class DocumentRoots : public YAML::EventHandler {
 public:
  const std::vector<YAML::Mark>& marks() const { return marks_; }

  void OnDocumentStart(const YAML::Mark&) override { at_root_ = true; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (at_root_) marks_.push_back(mark);
    at_root_ = false;
  }
  bool at_root_ = false;
  std::vector<YAML::Mark> marks_;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Usage("cannot read config file '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::Usage("cannot read config file '" + path + "'");
  return text.str();
}

// The duration from the flag, else from the file, else nullopt (the default).
Result<std::optional<Millis>> ResolveDuration(const std::optional<std::string>& flag,
                                              const char* flag_name,
                                              const std::optional<std::string>& from_file,
                                              const std::string& file_setting, bool postgres) {
  if (flag) {
    auto d = ParseDurationSetting(flag_name, *flag, postgres);
    if (!d.ok()) return d.status();
    return std::optional<Millis>(*d);
  }
  if (from_file) {
    auto d = ParseDurationSetting(file_setting, *from_file, postgres);
    if (!d.ok()) return d.status();
    return std::optional<Millis>(*d);
  }
  return std::optional<Millis>();
}

}  // namespace

GetEnv ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<ConfigFile> ParseConfigFile(const std::string& path, const std::string& text) {
  ConfigFile config;
  config.path = path;
  try {
    // Three documents at most: two say the file is wrong, a third at the
    // second's place says the parser is stuck on a stray token.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentRoots roots;
    while (roots.marks().size() < 3 && parser.HandleNextDocument(roots)) {
    }
    if (roots.marks().size() > 1) {
      const YAML::Mark& second = roots.marks()[1];
      if (roots.marks().size() == 3 && roots.marks()[2].pos == second.pos &&
          static_cast<size_t>(second.pos) < text.size()) {
        return Status::Usage(At(path, second.line + 1) + ": not valid YAML: unexpected '" +
                             text.substr(second.pos, 1) + "'");
      }
      return Status::Usage(At(path, second.line + 1) +
                           ": a second YAML document (the config file holds exactly one)");
    }
    const YAML::Node document = YAML::Load(text);
    if (document.IsNull()) return config;  // empty: all defaults
    SG_RETURN_IF_ERROR(ParseTopLevel(path, document, config));
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.is_null() ? path : At(path, e.mark.line + 1);
    return Status::Usage(where + ": not valid YAML: " + e.msg);
  }
  return config;
}

Result<Settings> ResolveSettings(const Flags& flags, const GetEnv& getenv) {
  // The file: -c (must exist), else ./schemagate.yaml when present.
  std::string path;
  std::error_code ec;
  if (flags.config_path) {
    path = *flags.config_path;
    if (path.empty()) return Status::Usage("-c: the config file path is empty");
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) {
      return Status::Usage("config file '" + path + "' (given with -c) does not exist");
    }
    if (fs::is_directory(st)) {
      return Status::Usage("config file '" + path + "' (given with -c) is a directory");
    }
  } else {
    const fs::file_status st = fs::status(kDefaultConfigFile, ec);
    if (fs::is_directory(st)) {
      return Status::Usage(std::string(kDefaultConfigFile) + " is a directory, not a config file");
    }
    if (fs::exists(st)) path = kDefaultConfigFile;
  }
  ConfigFile file;
  if (!path.empty()) {
    auto text = ReadFile(path);
    if (!text.ok()) return text.status();
    auto parsed = ParseConfigFile(path, *text);
    if (!parsed.ok()) return parsed.status();
    file = std::move(parsed.value());
  }

  Settings s;
  s.config_path = path;
  s.version_table = file.version_table;
  s.version_table_schema = file.version_table_schema;
  s.log_table = file.log_table;

  auto script_location = ResolveDirectory(flags.script_location, "--script-location", file.script_location, path);
  if (!script_location.ok()) return script_location.status();
  s.script_location = std::move(script_location.value());
  auto schema_location = ResolveDirectory(flags.schema_location, "--schema-location", file.schema_location, path);
  if (!schema_location.ok()) return schema_location.status();
  s.schema_location = std::move(schema_location.value());
  for (const auto& entry : file.environments) s.environments.push_back(entry.first);
  if (flags.dev_url) {
    if (flags.dev_url->empty()) return Status::Usage("--dev-url: the URL is empty");
    s.dev_url = flags.dev_url;
  } else if (auto v = getenv("SCHEMAGATE_DEV_URL"); v && !v->empty()) {
    s.dev_url = v;
  } else if (file.dev_url) {
    s.dev_url = file.dev_url;
  }

  // An empty variable counts as unset (`ENVIRONMENT= schemagate ...`).
  auto env_var = [&](const std::string& name) -> std::optional<std::string> {
    std::optional<std::string> value = getenv(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  };

  std::string environment_source;
  if (flags.environment) {
    if (flags.environment->empty()) return Status::Usage("--env: the environment name is empty");
    s.environment = *flags.environment;
    environment_source = "--env";
  } else if (auto from_env = env_var("ENVIRONMENT")) {
    s.environment = *from_env;
    environment_source = "ENVIRONMENT";
  } else {
    s.environment = file.environment;
    environment_source = path.empty() ? "the default" : path;
  }

  if (flags.url) {
    if (flags.url->empty()) {
      return Status::Usage("--url: the URL is empty (leave --url out to use DATABASE_URL or " +
                           std::string(kDefaultConfigFile) + ")");
    }
    s.url = *flags.url;
    s.url_source = "--url";
  } else if (auto from_env = env_var("DATABASE_URL")) {
    s.url = *from_env;
    s.url_source = "DATABASE_URL";
  } else if (auto it = file.environments.find(s.environment); it != file.environments.end()) {
    const EnvironmentConfig& env = it->second;
    const std::string key = "environments." + s.environment;
    if (!env.url.empty()) {
      s.url = env.url;
      s.url_source = path + " " + key + ".url";
    } else if (!env.url_env.empty()) {
      std::optional<std::string> raw = getenv(env.url_env);
      if (!raw || raw->empty()) {
        // Only commands that connect need it (lint, verify, check --schema
        // and the script commands do not): Context::database() reports it.
        s.url_error = Status::Usage("environment '" + s.environment + "' reads its database URL from " +
                                    env.url_env + " (" + key + ".url_env in " + path + "), which is " +
                                    (raw ? "empty" : "not set") + ": set " + env.url_env +
                                    " to the database URL, or pass --url");
        s.url_source = env.url_env + " (" + key + ".url_env, " + (raw ? "empty" : "not set") + ")";
      } else {
        s.url = *raw;
        s.url_source = env.url_env + " (" + key + ".url_env)";
      }
    } else {
      s.url_source = std::string(kLibpqDefaults);
    }
  } else if (!file.environments.empty()) {
    std::string known;
    for (const auto& entry : file.environments) {
      known += (known.empty() ? "" : ", ") + entry.first;
    }
    return Status::Usage("environment '" + s.environment + "' (from " + environment_source +
                         ") is not listed in " + path + " (known: " + known +
                         "); choose one with --env or ENVIRONMENT, or give the URL with --url "
                         "or DATABASE_URL");
  } else {
    s.url_source = std::string(kLibpqDefaults);
  }

  auto lock_wait = ResolveDuration(flags.lock_wait_timeout, "--lock-timeout",
                                   file.lock_wait_timeout, path + ": lock_wait_timeout", false);
  if (!lock_wait.ok()) return lock_wait.status();
  if (*lock_wait) s.lock_wait_timeout = **lock_wait;
  auto connect = ResolveDuration(flags.connect_timeout, "--connect-timeout", file.connect_timeout,
                                 path + ": connect_timeout", false);
  if (!connect.ok()) return connect.status();
  if (*connect) s.connect_timeout = **connect;
  auto statement = ResolveDuration(flags.statement_timeout, "--statement-timeout",
                                   file.statement_timeout, path + ": statement_timeout", true);
  if (!statement.ok()) return statement.status();
  s.statement_timeout = *statement;
  auto lock = ResolveDuration(flags.lock_timeout, "--db-lock-timeout", file.lock_timeout,
                              path + ": lock_timeout", true);
  if (!lock.ok()) return lock.status();
  s.lock_timeout = *lock;
  return s;
}

}  // namespace schemagate
