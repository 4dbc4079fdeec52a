#include "db/version_store.h"

#include <algorithm>

namespace schemagate::db {
VersionStore::VersionStore(const DatabaseOptions& options)
    : options_(options),
      version_table_(QualifiedName(options.version_table_schema, options.version_table)),
      log_table_(QualifiedName(options.version_table_schema, options.log_table)) {}

DatabaseState VersionStore::Read(pqxx::transaction_base& tx) const {
  DatabaseState state;
  pqxx::row exists = tx.exec_params1(
      "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL", version_table_, log_table_);
  state.version_table_exists = exists[0].as<bool>();
  state.log_table_exists = exists[1].as<bool>();
  if (!state.version_table_exists) return state;

  ReadRows(tx.exec(StateQuery(state.log_table_exists)), &state);
  return state;
}

DatabaseState VersionStore::ReadOnce(pqxx::connection& conn) const {
  try {
    pqxx::nontransaction tx(conn);
    DatabaseState state;
    ReadRows(tx.exec(StateQuery(true)), &state);
    state.version_table_exists = state.log_table_exists = true;
    return state;
  } catch (const pqxx::undefined_table&) {
    // A first run, or an Alembic-managed database without our log.
  }
  pqxx::read_transaction tx(conn);
  return Read(tx);
}

// Table names are identifiers quoted once in the constructor; values are
// never spliced in.
std::string VersionStore::StateQuery(bool with_log) const {
  std::string sql = "SELECT 'v', version_num, NULL FROM " + version_table_;
  if (with_log) {
    sql += " UNION ALL SELECT 'c', revision, checksum FROM (SELECT DISTINCT ON (revision) revision, "
           "checksum FROM " +
           log_table_ +
           " WHERE status = 'succeeded' AND revision IS NOT NULL AND operation IN ('upgrade', "
           "'adopt', 'stamp') ORDER BY revision, id DESC) AS c";
  }
  return sql;
}

void VersionStore::ReadRows(const pqxx::result& rows, DatabaseState* state) {
  for (const auto& row : rows) {
    if (row[0].as<std::string>() == "v") {
      state->heads.push_back(row[1].as<std::string>());
    } else {
      state->checksums[row[1].as<std::string>()] = row[2].is_null() ? "" : row[2].as<std::string>();
    }
  }
  std::sort(state->heads.begin(), state->heads.end());
}

LoggedParents VersionStore::ReadLoggedParents(pqxx::connection& conn) const {
  LoggedParents parents;
  pqxx::result rows;
  try {
    pqxx::nontransaction tx(conn);
    // One row per (revision, parent); a NULL parent for a revision without
    // one. The heads a step replaced are its from_heads not in its to_heads.
    rows = tx.exec(
        "SELECT l.revision, p.parent FROM (SELECT DISTINCT ON (revision) revision, from_heads, to_heads FROM " +
        log_table_ +
        " WHERE operation = 'upgrade' AND status = 'succeeded' AND revision IS NOT NULL "
        "ORDER BY revision, id DESC) AS l LEFT JOIN LATERAL (SELECT unnest(l.from_heads) AS parent "
        "EXCEPT SELECT unnest(l.to_heads)) AS p ON true ORDER BY 1, 2");
  } catch (const pqxx::undefined_table&) {
    return parents;  // an Alembic-managed database not adopted yet: no log
  }
  for (const auto& row : rows) {
    std::vector<std::string>& list = parents[row[0].as<std::string>()];
    if (!row[1].is_null()) list.push_back(row[1].as<std::string>());
  }
  return parents;
}

bool VersionStore::Ensure(pqxx::transaction_base& tx, const DatabaseState& state,
                          const std::vector<std::string>& adopt_revisions) const {
  if (state.version_table_exists && state.log_table_exists) return false;
  const std::string& schema = options_.version_table_schema;
  if (!tx.exec_params1("SELECT to_regnamespace($1) IS NOT NULL", tx.quote_name(schema))[0].as<bool>()) {
    tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(schema));
  }
  if (!state.version_table_exists) {
    tx.exec("CREATE TABLE IF NOT EXISTS " + version_table_ +
            " (version_num VARCHAR(32) NOT NULL, CONSTRAINT " +
            tx.quote_name(options_.version_table + "_pkc") + " PRIMARY KEY (version_num))");
  }
  if (!state.log_table_exists) {
    tx.exec("CREATE TABLE IF NOT EXISTS " + log_table_ +
            " ("
            "id bigserial PRIMARY KEY, "
            "revision varchar(32), "
            "operation text NOT NULL CHECK (operation IN ('upgrade', 'downgrade', 'stamp', 'adopt')), "
            "from_heads text[] NOT NULL DEFAULT '{}', "
            "to_heads text[] NOT NULL DEFAULT '{}', "
            "checksum text, "
            "status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')), "
            "statements_applied integer NOT NULL DEFAULT 0, "
            "statements_total integer NOT NULL DEFAULT 0, "
            "error text, "
            "error_statement text, "
            "sqlstate varchar(5), "
            "started_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
            "finished_at timestamptz, "
            "duration_ms bigint, "
            "applied_by text NOT NULL DEFAULT current_user, "
            "client text, "
            "tool_version text)");
    tx.exec("CREATE INDEX IF NOT EXISTS " + tx.quote_name(options_.log_table + "_revision_idx") +
            " ON " + log_table_ + " (revision, id)");
  }
  if (state.version_table_exists && !state.log_table_exists) {
    AppendBulk(tx, "adopt", adopt_revisions, {}, state.heads, state.heads);
    return true;
  }
  return false;
}

void VersionStore::WriteHeads(pqxx::transaction_base& tx, const Heads& before,
                              const Heads& after) const {
  for (const VersionWrite& w : VersionWrites(before, after)) {
    pqxx::result r;
    std::string what;
    switch (w.kind) {
      case VersionWrite::Kind::kInsert:
        tx.exec_params("INSERT INTO " + version_table_ + " (version_num) VALUES ($1)", w.to);
        continue;
      case VersionWrite::Kind::kUpdate:
        r = tx.exec_params("UPDATE " + version_table_ + " SET version_num = $1 WHERE version_num = $2",
                           w.to, w.from);
        what = "updating '" + w.from + "' to '" + w.to + "'";
        break;
      case VersionWrite::Kind::kDelete:
        r = tx.exec_params("DELETE FROM " + version_table_ + " WHERE version_num = $1", w.from);
        what = "deleting '" + w.from + "'";
        break;
    }
    if (r.affected_rows() != 1) {
      throw std::runtime_error("expected to match one row when " + what + " in " +
                               options_.version_table + ", matched " +
                               std::to_string(r.affected_rows()) +
                               "; another tool changed the version table during this run");
    }
  }
}

void VersionStore::DeleteAllHeads(pqxx::transaction_base& tx) const {
  tx.exec("DELETE FROM " + version_table_);
}

std::vector<InterruptedRun> VersionStore::ClaimInterrupted(pqxx::transaction_base& tx) const {
  std::vector<InterruptedRun> out;
  pqxx::result r = tx.exec(
      "UPDATE " + log_table_ +
      " SET status = 'failed', finished_at = clock_timestamp(), "
      "error = 'interrupted: the run ended (killed, or its connection lost) after ' || "
      "statements_applied || ' of ' || statements_total || ' statements; they stay applied' "
      "WHERE status = 'running' RETURNING id, coalesce(revision, ''), operation, coalesce(client, ''), "
      "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "statements_applied, statements_total, array_to_string(from_heads, ' '), array_to_string(to_heads, ' ')");
  for (const auto& row : r) {
    InterruptedRun run;
    run.id = row[0].as<int64_t>();
    run.revision = row[1].as<std::string>();
    run.operation = row[2].as<std::string>();
    run.client = row[3].as<std::string>();
    run.started_at = row[4].as<std::string>();
    run.statements_applied = row[5].as<int>();
    run.statements_total = row[6].as<int>();
    for (int column : {7, 8}) {  // ids hold no spaces
      Heads& heads = column == 7 ? run.from_heads : run.to_heads;
      std::string text = row[column].is_null() ? std::string() : row[column].as<std::string>();
      for (size_t at = 0; at < text.size();) {
        size_t end = text.find(' ', at);
        if (end == std::string::npos) end = text.size();
        if (end > at) heads.push_back(text.substr(at, end - at));
        at = end + 1;
      }
    }
    out.push_back(std::move(run));
  }
  std::sort(out.begin(), out.end(), [](const InterruptedRun& a, const InterruptedRun& b) { return a.id < b.id; });
  return out;
}

namespace {

// The log row's columns and their values as $1..$15, shared by the plain
// INSERT and the one that follows a version-table UPDATE.
constexpr const char* kLogColumns =
    " (revision, operation, from_heads, to_heads, checksum, status, statements_applied, "
    "statements_total, error, error_statement, sqlstate, started_at, finished_at, "
    "duration_ms, client, tool_version) ";
constexpr const char* kLogValues =
    "$1, $2, $3::text[], $4::text[], $5, $6, $7, $8, $9, $10, $11, "
    "clock_timestamp() - make_interval(secs => $12::bigint / 1000.0), "
    "CASE WHEN $13 THEN clock_timestamp() END, CASE WHEN $13 THEN $12::bigint END, $14, $15";

const char* Nullable(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

int64_t VersionStore::AppendLog(pqxx::transaction_base& tx, const LogEntry& e) const {
  const bool finished = e.status != "running";
  return tx
      .exec_params1("INSERT INTO " + log_table_ + kLogColumns + "VALUES (" + kLogValues + ") RETURNING id",
                    Nullable(e.revision), e.operation, TextArray(e.from_heads), TextArray(e.to_heads),
                    Nullable(e.checksum), e.status, e.statements_applied, e.statements_total, Nullable(e.error),
                    Nullable(e.error_statement), Nullable(e.sqlstate), e.duration_ms, finished,
                    Nullable(options_.client), SCHEMAGATE_VERSION)[0]
      .as<int64_t>();
}

void VersionStore::WriteHeadsAndLog(pqxx::transaction_base& tx, const Heads& before, const Heads& after,
                                    const LogEntry& e) const {
  const std::vector<VersionWrite> writes = VersionWrites(before, after);
  if (writes.size() != 1 || writes[0].kind != VersionWrite::Kind::kUpdate) {
    WriteHeads(tx, before, after);
    AppendLog(tx, e);
    return;
  }
  // A step along a branch, the common case: the version UPDATE and the log
  // row in one statement (one round trip per migration fewer). The row is
  // inserted only if the UPDATE matched, so zero rows back is the same
  // one-row check WriteHeads makes.
  // Prepared once per session: a run of many migrations then skips parsing
  // and, after five, planning it (measured: 0.35 ms of server time per
  // migration as an unnamed statement). libpqxx prepares it on first use
  // and ignores the identical definition after.
  const VersionWrite& w = writes[0];
  const bool finished = e.status != "running";
  const char* kStepWrite = "schemagate_step_write";
  tx.conn().prepare(kStepWrite, "WITH moved AS (UPDATE " + version_table_ +
                                    " SET version_num = $16 WHERE version_num = $17 RETURNING 1) INSERT INTO " +
                                    log_table_ + kLogColumns + "SELECT " + kLogValues + " FROM moved RETURNING id");
  pqxx::result r = tx.exec_prepared(
      kStepWrite, Nullable(e.revision), e.operation, TextArray(e.from_heads), TextArray(e.to_heads), Nullable(e.checksum),
      e.status, e.statements_applied, e.statements_total, Nullable(e.error), Nullable(e.error_statement),
      Nullable(e.sqlstate), e.duration_ms, finished, Nullable(options_.client), SCHEMAGATE_VERSION, w.to, w.from);
  if (r.size() != 1) {
    throw std::runtime_error("expected to match one row when updating '" + w.from + "' to '" + w.to + "' in " +
                             options_.version_table + ", matched " + std::to_string(r.size()) +
                             "; another tool changed the version table during this run");
  }
}

void VersionStore::UpdateLog(pqxx::transaction_base& tx, int64_t id, const LogEntry& e) const {
  const bool finished = e.status != "running";
  tx.exec_params("UPDATE " + log_table_ +
                     " SET status = $2, statements_applied = $3, error = $4, error_statement = $5, "
                     "sqlstate = $6, to_heads = $7::text[], finished_at = CASE WHEN $8 THEN "
                     "clock_timestamp() END, duration_ms = CASE WHEN $8 THEN (extract(epoch FROM "
                     "clock_timestamp() - started_at) * 1000)::bigint END WHERE id = $1",
                 id, e.status, e.statements_applied, Nullable(e.error), Nullable(e.error_statement),
                 Nullable(e.sqlstate), TextArray(e.to_heads), finished);
}

void VersionStore::AppendBulk(pqxx::transaction_base& tx, const std::string& operation,
                              const std::vector<std::string>& revisions,
                              const std::vector<std::string>& checksums, const Heads& from_heads,
                              const Heads& to_heads) const {
  if (revisions.empty()) {
    tx.exec_params("INSERT INTO " + log_table_ +
                       " (revision, operation, from_heads, to_heads, status, finished_at, "
                       "duration_ms, client, tool_version) VALUES (NULL, $1, $2::text[], "
                       "$3::text[], 'succeeded', clock_timestamp(), 0, $4, $5)",
                   operation, TextArray(from_heads), TextArray(to_heads),
                   options_.client.empty() ? nullptr : options_.client.c_str(), SCHEMAGATE_VERSION);
    return;
  }
  std::vector<std::string> sums = checksums;
  sums.resize(revisions.size());
  tx.exec_params("INSERT INTO " + log_table_ +
                     " (revision, operation, from_heads, to_heads, checksum, status, finished_at, "
                     "duration_ms, client, tool_version) SELECT u.r, $1, $3::text[], $4::text[], "
                     "nullif(u.c, ''), 'succeeded', clock_timestamp(), 0, $5, $6 FROM "
                     "unnest($2::text[], $7::text[]) WITH ORDINALITY AS u(r, c, n) ORDER BY u.n",
                 operation, TextArray(revisions), TextArray(from_heads), TextArray(to_heads),
                 options_.client.empty() ? nullptr : options_.client.c_str(), SCHEMAGATE_VERSION,
                 TextArray(sums));
}

}  // namespace schemagate::db
