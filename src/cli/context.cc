#include "cli/context.h"

#include <unistd.h>

#include "core/json_writer.h"

namespace schemagate::cli {

Result<const Settings*> Context::settings() {
  if (!settings_) {
    auto s = ResolveSettings(flags_, ProcessEnvironment());
    if (!s.ok()) return s.status();
    settings_ = std::move(s.value());
  }
  return &*settings_;
}

void Context::PrefetchMigrations(bool split) {
  if (set_ || prefetch_.valid()) return;
  auto s = settings();
  if (!s.ok()) return;  // migrations() reports it
  prefetch_ = std::async(std::launch::async,
                         [location = (*s)->script_location, split, failed = &prefetch_failed_]() {
                           auto set = MigrationSet::Load(location, split);
                           if (!set.ok()) *failed = true;
                           return set;
                         });
}

Result<const MigrationSet*> Context::migrations(bool split) {
  if (!set_ && prefetch_.valid()) {
    auto set = prefetch_.get();
    if (!set.ok()) return set.status();
    set_ = std::move(set.value());
  }
  if (!set_) {
    auto s = settings();
    if (!s.ok()) return s.status();
    auto set = MigrationSet::Load((*s)->script_location, split);
    if (!set.ok()) return set.status();
    set_ = std::move(set.value());
  }
  if (split) SG_RETURN_IF_ERROR(set_->SplitAll());
  return &*set_;
}

std::string Context::ClientName() {
  for (const char* var : {"POD_NAME", "HOSTNAME"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "unknown";
}

Result<Database*> Context::database() {
  if (!db_) {
    auto s = settings();
    if (!s.ok()) return s.status();
    const Settings& st = **s;
    if (!st.url_error.ok()) return st.url_error;
    DatabaseOptions o;
    o.url = st.url;
    o.client = ClientName();
    o.application_name = "schemagate@" + o.client;
    o.connect_timeout = st.connect_timeout;
    o.lock_wait_timeout = st.lock_wait_timeout;
    o.statement_timeout = st.statement_timeout;
    o.lock_timeout = st.lock_timeout;
    o.version_table = st.version_table;
    o.version_table_schema = st.version_table_schema;
    o.log_table = st.log_table;
    o.stop_retrying = [this]() { return prefetch_failed_.load(); };
    auto db = Database::Connect(o);
    if (!db.ok()) return db.status();
    db_ = std::move(db.value());
  }
  return db_.get();
}

std::string JoinHeads(const Heads& heads, const std::string& empty) {
  if (heads.empty()) return empty;
  std::string out;
  for (const std::string& h : heads) out += (out.empty() ? "" : ", ") + h;
  return out;
}

void WriteRunFields(JsonWriter& w, const Report& report) {
  if (report.have_target) w.Field("target_heads", report.target_heads);
  if (report.pending) w.Field("pending", *report.pending);
  if (report.ahead) w.Field("ahead", true).Field("release_heads", report.release_heads);
}

std::string JsonHeads(const Heads& heads) {
  JsonWriter w;
  w.StringArray(heads);
  return w.str();
}

}  // namespace schemagate::cli
