// Database: connecting, reading state, and running plans under the lock.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/encoding.h"
#include "core/redact.h"
#include "db/advisory_lock.h"
#include "db/database.h"
#include "db/pq.h"
#include "db/version_store.h"

namespace schemagate {

using db::LogEntry;
using SteadyClock = std::chrono::steady_clock;

namespace {

int64_t MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

// How to finish a step by hand: the stamp that leaves the version table as
// the step would have. After an upgrade that is the step's revision; after a
// downgrade it is what the revision gave way to (its parents, or base), not
// the revision itself, which the table still holds.
std::string StampAdvice(const MigrationSet& set, const std::string& revision, const std::string& operation,
                        const Heads& before, const Heads& after) {
  if (operation != "downgrade") return "schemagate stamp " + revision;
  if (after.empty()) return "schemagate stamp base";
  Heads added;
  for (const std::string& h : after) {
    if (std::find(before.begin(), before.end(), h) == before.end()) added.push_back(h);
  }
  auto join = [](const Heads& heads) {
    std::string out;
    for (const std::string& h : heads) out += (out.empty() ? "" : " ") + h;
    return out;
  };
  if (!added.empty()) {
    auto stamped = PlanStamp(set.graph(), before, added, false);
    if (stamped.ok() && RevisionSet(stamped->begin(), stamped->end()) == RevisionSet(after.begin(), after.end())) {
      return "schemagate stamp " + join(added);
    }
  }
  return "schemagate stamp --purge " + join(after);
}

// What the first run after an interruption reports. It stops once, so the
// partial state is seen by a person; the log row is now `failed`, and the
// next run retries the revision from its start, as after any failure.
Status InterruptedError(const MigrationSet& set, const std::vector<db::InterruptedRun>& runs) {
  const db::InterruptedRun& run = runs.front();
  const MigrationFile* file = set.Find(run.revision);
  const std::string where = file ? " (" + file->revision.path + ")" : "";
  const std::string by = run.client.empty() ? "" : " by " + run.client;
  const bool down = run.operation == "downgrade";
  return Status::Runtime(
      "revision " + run.revision + where + " was interrupted in an earlier " + run.operation + " run" + by +
      " started " + run.started_at + ": " + std::to_string(run.statements_applied) + " of " +
      std::to_string(run.statements_total) +
      " statements had run, and its transaction:false statements stay applied. It is now recorded as "
      "failed (schemagate_log id " + std::to_string(run.id) + "). " +
      (down ? "Check what ran, then either run the downgrade again, which retries the revision's downgrade from "
              "its first statement (write such sections idempotently: DROP ... IF EXISTS), or finish it by hand "
              "and '"
            : "Check what ran (an interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index), then "
              "either run upgrade again, which retries the revision from its first statement (write such "
              "sections idempotently: DROP INDEX CONCURRENTLY IF EXISTS before CREATE INDEX CONCURRENTLY), or "
              "finish it by hand and '") +
      StampAdvice(set, run.revision, run.operation, run.from_heads, run.to_heads) + "'" +
      (runs.size() > 1 ? " (" + std::to_string(runs.size() - 1) + " more interrupted run(s) are in the log)" : ""));
}

}  // namespace

struct Database::Impl {
  DatabaseOptions options;
  std::string conninfo;
  std::unique_ptr<pqxx::connection> conn;
  db::VersionStore store;

  explicit Impl(const DatabaseOptions& o) : options(o), store(o) {}

  Status Fail(const std::exception& e, const std::string& context) {
    return db::StatusFromException(e, context, options);
  }

  // Runs one statement; on error returns a Status that names file, line,
  // revision and SQLSTATE.
  template <typename Tx>
  Status ExecStatement(Tx& tx, const MigrationFile& file, const SqlStatement& st) {
    try {
      tx.exec(st.text);
    } catch (const pqxx::sql_error& e) {
      return StatementError(file, st, e.what(), db::SqlstateOf(e));
    } catch (const pqxx::broken_connection& e) {
      // libpqxx's own text ("Could not obtain client encoding: not
      // connected") says nothing useful to the person reading it.
      return StatementError(file, st,
                            "lost the connection to the server while the statement ran (its session was "
                            "ended, e.g. by pg_terminate_backend or a timeout, the server restarted, or the "
                            "network failed); the migration's transaction did not commit (libpqxx: " +
                                std::string(e.what()) + ")",
                            "");
    } catch (const std::exception& e) {
      return StatementError(file, st, e.what(), "");
    }
    return Status::Ok();
  }

  // Runs a section's statements in `tx`; `applied` counts statements run.
  template <typename Tx>
  Status ExecSection(Tx& tx, const MigrationFile& file, const Section& section, int* applied) {
    for (const SqlStatement& st : section.statements) {
      SG_RETURN_IF_ERROR(ExecStatement(tx, file, st));
      ++*applied;
    }
    return Status::Ok();
  }

  Status StatementError(const MigrationFile& file, const SqlStatement& st, std::string what,
                        const std::string& sqlstate) {
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    what = RedactSecret(what, PasswordOf(options.url));
    ErrorLocation loc;
    loc.revision = file.revision.id;
    loc.file = file.revision.path;
    loc.line = st.line;
    loc.sqlstate = sqlstate;
    loc.statement = TruncateUtf8(st.text, 500);
    Status s = Status::Runtime(file.revision.path + ":" + std::to_string(st.line) + ": revision " +
                               file.revision.id + " (" + file.revision.message + ") failed: " + what +
                               (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
    s.set_location(loc);
    return s;
  }

  // Records a failed step in its own transaction, so the failure survives the
  // rollback of the migration's transaction. Best effort: the connection may
  // be the thing that failed.
  void RecordFailure(const Step& step, const MigrationFile& file, const std::string& operation,
                     const Status& status, int applied, int total, int64_t duration_ms,
                     std::optional<int64_t> running_row) {
    LogEntry e;
    e.revision = step.revision;
    e.operation = operation;
    e.from_heads = step.heads_before;
    e.to_heads = step.heads_before;
    e.checksum = file.checksum;
    e.status = "failed";
    e.statements_applied = applied;
    e.statements_total = total;
    e.error = TruncateUtf8(status.message(), 4000);
    e.error_statement = status.location().statement;
    e.sqlstate = status.location().sqlstate;
    e.duration_ms = duration_ms;
    try {
      pqxx::work tx(*conn);
      if (running_row) {
        store.UpdateLog(tx, *running_row, e);
      } else {
        store.AppendLog(tx, e);
      }
      tx.commit();
    } catch (const std::exception&) {
    }
  }

  Result<AppliedStep> ExecuteStep(const MigrationSet& set, const Step& step, const MigrationFile& file,
                                  const RunOptions& run, pqxx::work* outer) {
    const auto start = SteadyClock::now();
    const std::vector<const Section*> sections = file.SectionsFor(step.direction, run.environment);
    int total = 0;
    bool all_transactional = true;
    for (const Section* s : sections) {
      total += static_cast<int>(s->statements.size());
      all_transactional = all_transactional && s->transactional;
    }
    LogEntry entry;
    entry.revision = step.revision;
    entry.operation = DirectionName(step.direction);
    entry.from_heads = step.heads_before;
    entry.to_heads = step.heads_after;
    entry.checksum = file.checksum;
    entry.statements_total = total;
    int applied = 0;

    AppliedStep done;
    done.revision = step.revision;
    done.direction = step.direction;
    done.message = file.revision.message;
    done.statements = total;

    if (outer != nullptr) {  // --single-transaction: the caller commits
      for (const Section* s : sections) {
        SG_RETURN_IF_ERROR(ExecSection(*outer, file, *s, &applied));
      }
      try {
        entry.status = "succeeded";
        entry.statements_applied = applied;
        entry.duration_ms = MillisSince(start);
        store.WriteHeadsAndLog(*outer, step.heads_before, step.heads_after, entry);
      } catch (const std::exception& e) {
        return Fail(e, "recording revision " + step.revision);
      }
      done.duration_ms = MillisSince(start);
      return done;
    }

    if (all_transactional) {
      Status status;
      try {
        pqxx::work tx(*conn);
        for (const Section* s : sections) {
          status = ExecSection(tx, file, *s, &applied);
          if (!status.ok()) break;
        }
        if (status.ok()) {
          entry.status = "succeeded";
          entry.statements_applied = applied;
          entry.duration_ms = MillisSince(start);
          store.WriteHeadsAndLog(tx, step.heads_before, step.heads_after, entry);
          tx.commit();
        }
      } catch (const std::exception& e) {
        status = Fail(e, "revision " + step.revision + " (" + file.revision.path + ")");
      }
      if (!status.ok()) {
        // The transaction rolled back: nothing of this migration remains.
        RecordFailure(step, file, entry.operation, status, 0, total, MillisSince(start), std::nullopt);
        return status;
      }
      done.duration_ms = MillisSince(start);
      return done;
    }

    // A migration with transaction:false sections: record it as running first
    // so an interruption leaves a trace of how far it got.
    int64_t row = 0;
    try {
      pqxx::work tx(*conn);
      entry.status = "running";
      row = store.AppendLog(tx, entry);
      tx.commit();
    } catch (const std::exception& e) {
      return Fail(e, "recording the start of revision " + step.revision);
    }
    // The log row follows every commit, so an interruption leaves an exact
    // record of what ran.
    auto record_progress = [&]() {
      pqxx::work tx(*conn);
      entry.statements_applied = applied;
      store.UpdateLog(tx, row, entry);
      tx.commit();
    };
    Status status;
    for (const Section* s : sections) {
      try {
        if (s->transactional) {
          int section_applied = 0;
          {
            pqxx::work tx(*conn);
            status = ExecSection(tx, file, *s, &section_applied);
            if (status.ok()) tx.commit();
          }
          if (status.ok()) {
            applied += section_applied;
            record_progress();
          }
        } else {
          for (const SqlStatement& st : s->statements) {  // each commits on its own
            {
              pqxx::nontransaction tx(*conn);
              status = ExecStatement(tx, file, st);
            }
            if (!status.ok()) break;
            ++applied;
            record_progress();
          }
        }
      } catch (const std::exception& e) {
        status = Fail(e, "revision " + step.revision + " (" + file.revision.path + ")");
      }
      if (!status.ok()) break;
    }
    if (status.ok()) {
      try {
        pqxx::work tx(*conn);
        store.WriteHeads(tx, step.heads_before, step.heads_after);
        entry.status = "succeeded";
        entry.statements_applied = applied;
        store.UpdateLog(tx, row, entry);
        tx.commit();
      } catch (const std::exception& e) {
        status = Fail(e, "recording revision " + step.revision);
      }
    }
    if (!status.ok()) {
      const bool down = step.direction == Direction::kDowngrade;
      Status reported(status.code(),
                      status.message() + ". This migration has transaction:false sections: " +
                          std::to_string(applied) + " of " + std::to_string(total) +
                          " statements had run and stay applied; the version table was not "
                          "moved. Make the remaining statements idempotent (" +
                          (down ? "DROP ... IF EXISTS) and run the downgrade again"
                                : "CREATE ... IF NOT EXISTS) and run the upgrade again") +
                          ", or finish by hand and '" +
                          StampAdvice(set, step.revision, entry.operation, step.heads_before, step.heads_after) +
                          "'");
      reported.set_location(status.location());
      RecordFailure(step, file, entry.operation, reported, applied, total, MillisSince(start), row);
      return reported;
    }
    done.duration_ms = MillisSince(start);
    return done;
  }

  // Takes the lock, creates the tables or adopts an Alembic-managed
  // database, and re-reads the state under the lock.
  // `done_without_lock(state)`, when given, is asked while waiting: true
  // ends the wait with a null lock and `state` filled.
  // `unknown_heads(state)`, when given, replaces CheckHeadsKnown's refusal
  // of heads no file defines: OK returns the lock with nothing prepared (the
  // database is past the target; it has both tables then).
  Result<std::unique_ptr<db::AdvisoryLock>> LockAndPrepare(
      const MigrationSet& set,
      const std::function<void(const std::string&, std::chrono::milliseconds)>& on_wait,
      bool allow_unknown_heads, DatabaseState* state, bool* adopted,
      std::vector<db::InterruptedRun>* interrupted,
      const std::function<bool(const DatabaseState&)>& done_without_lock = nullptr,
      const std::function<Status(const DatabaseState&)>& unknown_heads = nullptr) {
    db::AdvisoryLock::NoLongerNeeded no_longer_needed;
    if (done_without_lock) {
      no_longer_needed = [&]() {
        try {
          DatabaseState now = store.ReadOnce(*conn);
          if (!now.version_table_exists || !now.log_table_exists || !done_without_lock(now)) return false;
          *state = std::move(now);
          return true;
        } catch (const std::exception&) {
          return false;  // keep waiting; the lock path reports real errors
        }
      };
    }
    // A pod start at head ends here: one snapshot read on the connection we
    // have, no lock and no second connection (a second backend to fork).
    if (no_longer_needed && no_longer_needed()) return std::unique_ptr<db::AdvisoryLock>();
    // The connection we have waits for the lock and, once it is ours, keeps
    // it; the work gets a fresh one then. Replicas that find the work done
    // while waiting (all but one, when many start at once) never fork a
    // second backend.
    auto lock = db::AdvisoryLock::Acquire(conn, options, on_wait, no_longer_needed);
    if (!lock.ok()) return lock.status();
    if (lock.value() == nullptr) return std::move(lock.value());
    auto work_conn = db::OpenConnection(conninfo, options);
    if (!work_conn.ok()) return work_conn.status();
    conn = std::move(work_conn.value());
    try {
      // If this process dies mid-statement, the server stops the statement
      // within a second instead of finishing it for nobody (PostgreSQL 14+),
      // so the next runner is not blocked behind an orphaned transaction.
      if (conn->server_version() >= 140000) {
        pqxx::nontransaction(*conn).exec("SET client_connection_check_interval = '1s'");
      }
      {
        pqxx::read_transaction tx(*conn);
        *state = store.Read(tx);
      }
      if (state->log_table_exists) {
        pqxx::work tx(*conn);
        std::vector<db::InterruptedRun> found = store.ClaimInterrupted(tx);
        tx.commit();
        if (interrupted != nullptr) *interrupted = std::move(found);
      }
      if (!allow_unknown_heads) {
        Status known = CheckHeadsKnown(set.graph(), state->heads);
        if (!known.ok()) {
          if (!unknown_heads) return known;
          SG_RETURN_IF_ERROR(unknown_heads(*state));
          return std::move(lock.value());
        }
      }
      if (!state->version_table_exists || !state->log_table_exists) {
        std::vector<std::string> adopt;
        if (state->version_table_exists && !allow_unknown_heads) {
          RevisionSet applied = set.graph().Ancestors(state->heads, true);
          for (const std::string& id : set.graph().TopologicalOrder()) {
            if (applied.count(id)) adopt.push_back(id);
          }
        }
        pqxx::work tx(*conn);
        *adopted = store.Ensure(tx, *state, adopt);
        tx.commit();
        pqxx::read_transaction again(*conn);
        *state = store.Read(again);
      }
    } catch (const std::exception& e) {
      return Fail(e, "preparing " + options.version_table_schema + "." + options.version_table);
    }
    return std::move(lock.value());
  }
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Connect(const DatabaseOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  impl->conninfo = db::BuildConninfo(options, options.application_name, true);
  auto conn = db::OpenConnection(impl->conninfo, options);
  if (!conn.ok()) return conn.status();
  impl->conn = std::move(conn.value());
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

std::string Database::target() const {
  return impl_->options.url.empty() ? std::string("libpq default server")
                                     : DescribeTarget(impl_->options.url);
}

namespace {

// `keyword`'s value in libpq's option array, or "".
std::string OptionValue(PQconninfoOption* options, const char* keyword) {
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, keyword) == 0 && o->val != nullptr) return o->val;
  }
  return "";
}

// libpq's effective sslmode for `conninfo`: its own, else what libpq's
// defaults give (PGSSLMODE, a PGSERVICE entry, then "prefer").
std::string EffectiveSslmode(const std::string& conninfo) {
  PQconninfoOption* given = PQconninfoParse(conninfo.c_str(), nullptr);
  std::string mode = OptionValue(given, "sslmode");
  PQconninfoFree(given);
  if (mode.empty()) {
    PQconninfoOption* defaults = PQconndefaults();
    mode = OptionValue(defaults, "sslmode");
    PQconninfoFree(defaults);
  }
  return mode.empty() ? "prefer" : mode;
}

}  // namespace

Result<Database::Transport> Database::ReadTransport() {
  try {
    pqxx::nontransaction tx(*impl_->conn);
    pqxx::row r = tx.exec1(
        "SELECT a.client_addr IS NULL, coalesce(s.ssl, false), coalesce(s.version, '') "
        "FROM pg_stat_activity a LEFT JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.pid = pg_backend_pid()");
    Transport t;
    if (r[0].as<bool>()) {
      t.local_socket = true;
      t.description = "local socket";
      return t;
    }
    const std::string mode = EffectiveSslmode(impl_->conninfo);
    if (!r[1].as<bool>()) {
      t.description = "no TLS (sslmode=" + mode +
                      (mode == "disable" ? ")"
                       : mode == "allow" ? " connects without TLS when the server lets it)"
                                         : ", and the server offers none)");
    } else if (mode == "verify-full") {
      t.verified = true;
      t.description = "TLS (" + r[2].as<std::string>() + "), certificate and host name verified (sslmode=verify-full)";
    } else {
      t.description = "TLS (" + r[2].as<std::string>() + "), " +
                      (mode == "verify-ca" ? "certificate verified but not the host name"
                                           : "certificate not verified") +
                      " (sslmode=" + mode + ")";
    }
    return t;
  } catch (const std::exception& e) {
    return impl_->Fail(e, "reading how the session is connected");
  }
}

Result<DatabaseState> Database::ReadState() {
  try {
    return impl_->store.ReadOnce(*impl_->conn);
  } catch (const std::exception& e) {
    return impl_->Fail(e, "reading " + impl_->options.version_table_schema + "." +
                              impl_->options.version_table);
  }
}

Result<LoggedParents> Database::ReadLoggedParents() {
  try {
    return impl_->store.ReadLoggedParents(*impl_->conn);
  } catch (const std::exception& e) {
    return impl_->Fail(e, "reading " + impl_->options.version_table_schema + "." + impl_->options.log_table);
  }
}

Result<RunOutcome> Database::Run(const MigrationSet& set, const Planner& planner,
                                 const RunOptions& run) {
  RunOutcome outcome;
  DatabaseState state;
  // Heads no file defines: a newer release may have run while we waited.
  std::function<Status(const DatabaseState&)> unknown_heads;
  if (run.past_target) {
    unknown_heads = [&](const DatabaseState& now) {
      const LoggedParents log =
          now.log_table_exists ? impl_->store.ReadLoggedParents(*impl_->conn) : LoggedParents{};
      Status past = run.past_target(now, log);
      outcome.ahead = past.ok();
      return past;
    };
  }
  // While another runner holds the lock, its work may make ours unnecessary.
  auto nothing_left = [&](const DatabaseState& now) {
    if (!CheckHeadsKnown(set.graph(), now.heads).ok()) return unknown_heads && unknown_heads(now).ok();
    auto plan = planner(now.heads);
    return plan.ok() && plan->steps.empty();
  };
  std::vector<db::InterruptedRun> interrupted;
  auto lock = impl_->LockAndPrepare(set, run.on_lock_wait, false, &state, &outcome.adopted, &interrupted,
                                    nothing_left, unknown_heads);
  if (!lock.ok()) return lock.status();
  if (!interrupted.empty()) return InterruptedError(set, interrupted);
  if (outcome.ahead) {
    outcome.from_heads = outcome.to_heads = state.heads;
    return outcome;
  }
  SG_RETURN_IF_ERROR(set.CheckChecksums(state.heads, state.checksums));
  auto plan = planner(state.heads);
  if (!plan.ok()) return plan.status();
  if (run.on_plan) run.on_plan(*plan);
  outcome.from_heads = plan->from_heads;
  outcome.to_heads = plan->from_heads;

  if (run.single_transaction && !plan->steps.empty()) {
    for (const Step& step : plan->steps) {
      const MigrationFile* file = set.Find(step.revision);
      for (const Section* s : file->SectionsFor(step.direction, run.environment)) {
        if (!s->transactional) {
          return Status::Validation(file->revision.path + ":" + std::to_string(s->line) +
                                    ": section is transaction:false and cannot run inside "
                                    "--single-transaction; drop the flag for this run");
        }
      }
    }
    std::vector<AppliedStep> steps;
    Status failed;
    const Step* failed_step = nullptr;
    try {
      pqxx::work tx(*impl_->conn);
      for (const Step& step : plan->steps) {
        const MigrationFile& file = *set.Find(step.revision);
        if (run.on_step_start) run.on_step_start(step, file);
        auto done = impl_->ExecuteStep(set, step, file, run, &tx);
        if (!done.ok()) {
          failed = done.status();
          failed_step = &step;
          break;
        }
        steps.push_back(done.value());
      }
      if (failed.ok()) tx.commit();
    } catch (const std::exception& e) {
      failed = impl_->Fail(e, "committing the single transaction");
    }
    if (!failed.ok()) {
      if (failed_step != nullptr) {
        const MigrationFile& file = *set.Find(failed_step->revision);
        impl_->RecordFailure(*failed_step, file, DirectionName(failed_step->direction), failed, 0,
                             0, 0, std::nullopt);
      }
      return Status(failed.code(), failed.message() +
                                       " (--single-transaction: the whole run was rolled back)")
          .set_location(failed.location());
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      if (run.on_step_done) run.on_step_done(steps[i], plan->steps[i]);
    }
    outcome.steps = std::move(steps);
    outcome.to_heads = plan->to_heads;
    return outcome;
  }

  for (const Step& step : plan->steps) {
    const MigrationFile& file = *set.Find(step.revision);
    if (run.on_step_start) run.on_step_start(step, file);
    auto done = impl_->ExecuteStep(set, step, file, run, nullptr);
    if (!done.ok()) return done.status();
    if (run.on_step_done) run.on_step_done(done.value(), step);
    outcome.steps.push_back(done.value());
    outcome.to_heads = step.heads_after;
  }
  return outcome;
}

Result<RunOutcome> Database::Stamp(const MigrationSet& set, const Stamper& stamper, bool purge) {
  RunOutcome outcome;
  DatabaseState state;
  // A stamp is the way forward after an interruption: such rows are marked
  // failed without stopping it.
  auto lock = impl_->LockAndPrepare(set, nullptr, purge, &state, &outcome.adopted, nullptr);
  if (!lock.ok()) return lock.status();
  Heads before = purge ? Heads{} : state.heads;
  auto after = stamper(before);
  if (!after.ok()) return after.status();
  outcome.from_heads = state.heads;
  outcome.to_heads = after.value();
  const RevisionGraph& graph = set.graph();
  RevisionSet now_applied = graph.Ancestors(after.value(), true);
  RevisionSet was_applied = purge ? RevisionSet{} : graph.Ancestors(before, true);
  std::vector<std::string> recorded, checksums;
  for (const std::string& id : graph.TopologicalOrder()) {
    if (now_applied.count(id) && !was_applied.count(id)) {
      recorded.push_back(id);
      checksums.push_back(set.Find(id)->checksum);
    }
  }
  try {
    pqxx::work tx(*impl_->conn);
    if (purge) {
      impl_->store.DeleteAllHeads(tx);
    }
    impl_->store.WriteHeads(tx, before, after.value());
    impl_->store.AppendBulk(tx, "stamp", recorded, checksums, state.heads, after.value());
    tx.commit();
  } catch (const std::exception& e) {
    return impl_->Fail(e, "stamping");
  }
  return outcome;
}

}  // namespace schemagate
