// Internal to src/db: the migration lock (design.md §6).
//
// A session-level advisory lock keyed on (database, schema, version table),
// held on a dedicated connection and taken with pg_try_advisory_lock polled
// with backoff and jitter. Never a blocking pg_advisory_lock: a waiter blocked
// inside the server holds a snapshot that CREATE INDEX CONCURRENTLY, run by
// the holder, would wait for — a deadlock. The lock dies with its session,
// so a killed holder never leaves it behind.
#ifndef SCHEMAGATE_DB_ADVISORY_LOCK_H_
#define SCHEMAGATE_DB_ADVISORY_LOCK_H_

#include <functional>
#include <memory>
#include <string>

#include "db/pq.h"

namespace schemagate::db {

class AdvisoryLock {
 public:
  using WaitCallback = std::function<void(const std::string& holder, std::chrono::milliseconds waited)>;

  // Asked between attempts: true when the lock is no longer needed (another
  // runner already did the work), which ends the wait without the lock.
  using NoLongerNeeded = std::function<bool()>;

  // Takes the lock on `conn`, waiting up to options.lock_wait_timeout. Once
  // taken, the lock owns the connection (`conn` is then null) and it serves
  // nothing else; otherwise `conn` stays with the caller, so a runner whose
  // work was done by another never needs a second connection.
  // kLockTimeout names the holder. Returns nullptr (and no error) when
  // `no_longer_needed` said so; it may use `conn` between attempts.
  static Result<std::unique_ptr<AdvisoryLock>> Acquire(std::unique_ptr<pqxx::connection>& conn,
                                                       const DatabaseOptions& options,
                                                       const WaitCallback& on_wait,
                                                       const NoLongerNeeded& no_longer_needed = nullptr);
  ~AdvisoryLock();  // releases (closing the session releases it too)
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  AdvisoryLock(std::unique_ptr<pqxx::connection> conn, int64_t key);
  std::unique_ptr<pqxx::connection> conn_;
  int64_t key_;
};

}  // namespace schemagate::db

#endif  // SCHEMAGATE_DB_ADVISORY_LOCK_H_
