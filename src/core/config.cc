#include "core/config.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace schemagate {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTopKeys = {
    "script_location", "version_table",   "version_table_schema", "log_table",     "environment",
    "environments",    "lock_wait_timeout", "connect_timeout",    "statement_timeout", "lock_timeout"};
const std::vector<std::string> kEnvKeys = {"url", "url_env"};

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::string UnknownKey(const std::string& path, int line, const std::string& key,
                       const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = 3;
  std::string list;
  for (const std::string& k : known) {
    list += (list.empty() ? "" : ", ") + k;
    size_t d = EditDistance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return path + ":" + std::to_string(line) + ": unknown key '" + key + "'" +
         (best.empty() ? "" : " (did you mean '" + best + "'?)") + "; known keys: " + list;
}

int LineOf(const YAML::Node& n) { return n.Mark().line + 1; }

Result<std::string> ScalarOf(const std::string& path, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) {
    return Status::Usage(path + ":" + std::to_string(LineOf(n)) + ": '" + key + "' must be a single value");
  }
  return n.Scalar();
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) return false;
  }
  return true;
}

}  // namespace

GetEnv ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<ConfigFile> ParseConfigFile(const std::string& path, const std::string& text) {
  ConfigFile cfg;
  cfg.path = path;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::Usage(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) return Status::Usage(path + ": expected a mapping of settings at the top level");
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    const int line = LineOf(kv.first);
    if (std::find(kTopKeys.begin(), kTopKeys.end(), key) == kTopKeys.end()) {
      return Status::Usage(UnknownKey(path, line, key, kTopKeys));
    }
    if (key == "environments") {
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        return Status::Usage(path + ":" + std::to_string(line) + ": 'environments' must map names to {url: ...} or {url_env: ...}");
      }
      for (const auto& env : value) {
        const std::string name = env.first.as<std::string>();
        EnvironmentConfig ec;
        if (!env.second.IsMap()) {
          return Status::Usage(path + ":" + std::to_string(LineOf(env.first)) + ": environment '" + name +
                               "' must be a mapping with url or url_env");
        }
        for (const auto& field : env.second) {
          const std::string fk = field.first.as<std::string>();
          if (std::find(kEnvKeys.begin(), kEnvKeys.end(), fk) == kEnvKeys.end()) {
            return Status::Usage(UnknownKey(path, LineOf(field.first), "environments." + name + "." + fk, {"url", "url_env"}));
          }
          auto v = ScalarOf(path, field.second, fk);
          if (!v.ok()) return v.status();
          (fk == "url" ? ec.url : ec.url_env) = *v;
        }
        if (!ec.url.empty() && !ec.url_env.empty()) {
          return Status::Usage(path + ":" + std::to_string(LineOf(env.first)) + ": environment '" + name +
                               "' sets both url and url_env; keep one");
        }
        cfg.environments[name] = ec;
      }
      continue;
    }
    auto v = ScalarOf(path, value, key);
    if (!v.ok()) return v.status();
    if (key == "script_location") cfg.script_location = *v;
    else if (key == "version_table") cfg.version_table = *v;
    else if (key == "version_table_schema") cfg.version_table_schema = *v;
    else if (key == "log_table") cfg.log_table = *v;
    else if (key == "environment") cfg.environment = *v;
    else if (key == "lock_wait_timeout") cfg.lock_wait_timeout = *v;
    else if (key == "connect_timeout") cfg.connect_timeout = *v;
    else if (key == "statement_timeout") cfg.statement_timeout = *v;
    else if (key == "lock_timeout") cfg.lock_timeout = *v;
    if ((key == "version_table" || key == "version_table_schema" || key == "log_table") && !IsIdentifier(*v)) {
      return Status::Usage(path + ":" + std::to_string(line) + ": " + key + " '" + *v +
                           "' is not a valid identifier (letters, digits, _ and $, at most 63 bytes)");
    }
  }
  return cfg;
}

Result<Settings> ResolveSettings(const Flags& flags, const GetEnv& getenv) {
  ConfigFile file;
  std::string path;
  if (flags.config_path) {
    path = *flags.config_path;
    if (!fs::exists(path)) return Status::Usage("config file '" + path + "' (from -c) does not exist");
  } else if (fs::exists(kDefaultConfigFile)) {
    path = kDefaultConfigFile;
  }
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return Status::Usage("cannot read config file '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = ParseConfigFile(path, text.str());
    if (!parsed.ok()) return parsed.status();
    file = std::move(parsed.value());
  }

  Settings s;
  s.config_path = path;
  s.version_table = file.version_table;
  s.version_table_schema = file.version_table_schema;
  s.log_table = file.log_table;
  if (flags.script_location) {
    s.script_location = *flags.script_location;
  } else {
    fs::path base = path.empty() ? fs::path() : fs::path(path).parent_path();
    fs::path loc(file.script_location);
    s.script_location = (loc.is_absolute() || base.empty()) ? loc.string() : (base / loc).string();
  }

  auto env_var = [&](const std::string& name) -> std::optional<std::string> {
    auto v = getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  if (flags.environment) s.environment = *flags.environment;
  else if (auto e = env_var("ENVIRONMENT")) s.environment = *e;
  else s.environment = file.environment;

  if (flags.url) {
    s.url = *flags.url;
    s.url_source = "--url";
  } else if (auto u = env_var("DATABASE_URL")) {
    s.url = *u;
    s.url_source = "DATABASE_URL";
  } else if (file.environments.count(s.environment)) {
    const EnvironmentConfig& ec = file.environments.at(s.environment);
    if (!ec.url.empty()) {
      s.url = ec.url;
      s.url_source = path + " environments." + s.environment + ".url";
    } else if (!ec.url_env.empty()) {
      auto v = env_var(ec.url_env);
      if (!v) {
        return Status::Usage("environment '" + s.environment + "' takes its database URL from $" + ec.url_env +
                             " (" + path + "), which is not set; export " + ec.url_env +
                             "=postgresql://... or pass --url");
      }
      s.url = *v;
      s.url_source = ec.url_env + " (environments." + s.environment + ".url_env)";
    } else {
      s.url_source = "libpq defaults (PGHOST, PGPORT, PGDATABASE, PGUSER)";
    }
  } else if (!file.environments.empty()) {
    std::string known;
    for (const auto& [name, ec] : file.environments) known += (known.empty() ? "" : ", ") + name;
    return Status::Usage("environment '" + s.environment + "' is not listed in " + path + " (known: " + known +
                         "); pick one with --env or ENVIRONMENT, or give the URL with --url / DATABASE_URL");
  } else {
    s.url_source = "libpq defaults (PGHOST, PGPORT, PGDATABASE, PGUSER)";
  }

  auto duration = [&](const char* name, const std::optional<std::string>& flag,
                      const std::optional<std::string>& from_file) -> Result<std::optional<Millis>> {
    const std::optional<std::string>& text = flag ? flag : from_file;
    if (!text) return std::optional<Millis>();
    auto d = ParseDuration(*text);
    if (!d.ok()) return d.status().Prefixed(std::string(name) + (flag ? " (flag)" : " (" + path + ")"));
    return std::optional<Millis>(*d);
  };
  auto lock_wait = duration("lock wait timeout (--lock-timeout)", flags.lock_wait_timeout, file.lock_wait_timeout);
  if (!lock_wait.ok()) return lock_wait.status();
  if (*lock_wait) s.lock_wait_timeout = **lock_wait;
  auto connect = duration("connect timeout", flags.connect_timeout, file.connect_timeout);
  if (!connect.ok()) return connect.status();
  if (*connect) s.connect_timeout = **connect;
  auto stmt = duration("statement_timeout", flags.statement_timeout, file.statement_timeout);
  if (!stmt.ok()) return stmt.status();
  s.statement_timeout = *stmt;
  auto lock = duration("lock_timeout", flags.lock_timeout, file.lock_timeout);
  if (!lock.ok()) return lock.status();
  s.lock_timeout = *lock;
  return s;
}

}  // namespace schemagate
