// The target database: everything schemagate reads and writes there.
//
// This is the db module's only public header; libpqxx stays inside src/db.
// A Database owns its connections. Not thread-safe: one per command.
#ifndef SCHEMAGATE_DB_DATABASE_H_
#define SCHEMAGATE_DB_DATABASE_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/migration_set.h"
#include "core/planner.h"
#include "core/status.h"

namespace schemagate {

struct DatabaseOptions {
  std::string url;                        // "" = libpq defaults
  std::string application_name;           // pod or host name, shown to lock waiters
  std::chrono::milliseconds connect_timeout{30000};
  std::chrono::milliseconds lock_wait_timeout{300000};
  std::optional<std::chrono::milliseconds> statement_timeout;  // for migration SQL
  std::optional<std::chrono::milliseconds> lock_timeout;       // for migration SQL
  std::string version_table = "alembic_version";
  std::string version_table_schema = "public";
  std::string log_table = "schemagate_log";
  std::string client;                     // host or pod, recorded in the log
  // Asked between connection attempts: true stops retrying (the caller has
  // already failed for another reason and only waits for us).
  std::function<bool()> stop_retrying;
};

// What the database says about itself, read without the lock.
struct DatabaseState {
  bool version_table_exists = false;
  bool log_table_exists = false;
  Heads heads;  // alembic_version rows, sorted
  // revision -> checksum of its last successful upgrade/adopt/stamp ("" = NULL)
  std::map<std::string, std::string> checksums;
};

// One migration applied or reverted.
struct AppliedStep {
  std::string revision;
  Direction direction = Direction::kUpgrade;
  std::string message;
  int64_t duration_ms = 0;
  int statements = 0;
};

struct RunOutcome {
  Heads from_heads;
  Heads to_heads;
  std::vector<AppliedStep> steps;
  bool adopted = false;  // an Alembic-managed database was adopted
  // The database was past the run's target (RunOptions::past_target said
  // so): nothing ran and nothing was written; from/to_heads are its heads.
  bool ahead = false;
};

struct RunOptions {
  std::string environment;
  bool single_transaction = false;
  Direction direction = Direction::kUpgrade;
  std::string command = "upgrade";  // recorded in the log: upgrade, downgrade
  // Called as each step starts and ends (for progress lines).
  std::function<void(const Step&, const MigrationFile&)> on_step_start;
  std::function<void(const AppliedStep&, const Step&)> on_step_done;
  // Called while waiting for the lock, with who holds it.
  std::function<void(const std::string& holder, std::chrono::milliseconds waited)> on_lock_wait;
  // Called with the plan computed under the lock, before its first step.
  std::function<void(const Plan&)> on_plan;
  // For a database with a head that no file defines (a newer release ran),
  // asked with the state and what schemagate_log records (empty without the
  // log table), while waiting for the lock and under it: OK means the
  // database is past what this run wants, and the run ends at once with
  // nothing written (RunOutcome::ahead); an error is the run's refusal.
  // Unset: such heads are refused as CheckHeadsKnown does.
  std::function<Status(const DatabaseState& state, const LoggedParents& log)> past_target;
};

// Computes the plan from the heads read under the lock.
using Planner = std::function<Result<Plan>(const Heads& current)>;

// The version of the libpq this binary runs with, e.g. "15.18"; shown by
// `schemagate --version`, as the runner links libpq in (CMakeLists.txt).
std::string LibpqVersion();

class Database {
 public:
  // Connects, retrying with backoff up to options.connect_timeout. Errors
  // (kRuntime) say where it tried to connect and why, password redacted.
  static Result<std::unique_ptr<Database>> Connect(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Reads the version table and the checksums, without locking or writing.
  Result<DatabaseState> ReadState();

  // Reads the parents schemagate_log records for each revision (see
  // LoggedParents) in one statement, without locking or writing; empty when
  // the log table does not exist. Needs SELECT on the log table. Only for a
  // database with heads the files do not define: the state read above is
  // all a run at a known head needs.
  Result<LoggedParents> ReadLoggedParents();

  // Runs migrations: takes the migration lock, creates the tables if needed,
  // adopts an Alembic-managed database, re-reads the state, refuses unknown
  // heads and checksum drift (kValidation), asks `planner` for the plan and
  // executes it. Transactional migrations leave nothing behind on failure.
  Result<RunOutcome> Run(const MigrationSet& set, const Planner& planner, const RunOptions& options);

  // Writes `new_heads` (from `stamper`, computed under the lock) to the
  // version table without running anything, and records the stamp.
  using Stamper = std::function<Result<Heads>(const Heads& current)>;
  Result<RunOutcome> Stamp(const MigrationSet& set, const Stamper& stamper, bool purge);

  // The server's description of where we are connected, without password.
  std::string target() const;

  // How the session travels, for `check`.
  struct Transport {
    bool local_socket = false;
    bool verified = false;    // TLS with certificate and host name checked
    std::string description;  // "TLS (TLSv1.3), certificate not verified (sslmode=require)"
  };
  // sslmode is libpq's effective one: the URL's, else PGSSLMODE or a
  // PGSERVICE entry, else prefer.
  Result<Transport> ReadTransport();

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace schemagate

#endif  // SCHEMAGATE_DB_DATABASE_H_
