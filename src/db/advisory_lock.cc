#include "db/advisory_lock.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "core/duration.h"

namespace schemagate::db {
namespace {

// Describes the sessions holding advisory lock `key` in this database.
std::string DescribeHolder(pqxx::connection& conn, int64_t key) {
  const uint64_t u = static_cast<uint64_t>(key);
  pqxx::nontransaction tx(conn);
  pqxx::result r = tx.exec_params(
      "SELECT a.pid, coalesce(nullif(a.application_name, ''), '(no application_name)'), "
      "coalesce(host(a.client_addr), 'local socket'), "
      "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "coalesce(a.state, ''), coalesce(left(a.query, 80), '') "
      "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid",
      static_cast<int64_t>(u >> 32), static_cast<int64_t>(u & 0xffffffffu));
  if (r.empty()) return "another session (it may have just released it)";
  std::string out;
  for (const auto& row : r) {
    if (!out.empty()) out += "; ";
    out += row[1].as<std::string>() + " (pid " + row[0].as<std::string>() + ", from " +
           row[2].as<std::string>() + ", connected since " + row[3].as<std::string>() +
           ", state " + row[4].as<std::string>() + ")";
  }
  return out;
}

// The LISTEN/NOTIFY channel on which a releasing holder wakes the waiters.
std::string ChannelName(int64_t key) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
  return std::string("schemagate_lock_") + hex;
}

}  // namespace

AdvisoryLock::AdvisoryLock(std::unique_ptr<pqxx::connection> conn, int64_t key)
    : conn_(std::move(conn)), key_(key) {}

AdvisoryLock::~AdvisoryLock() {
  try {
    // One round trip: the NOTIFY is delivered when this implicit transaction
    // commits, after the unlock, so a woken waiter finds the lock free and
    // the holder's migrations (committed on the work connection) visible.
    pqxx::nontransaction(*conn_).exec("SELECT pg_advisory_unlock(" + std::to_string(key_) + "); NOTIFY " +
                                      ChannelName(key_));
  } catch (const std::exception&) {
    // The session ends with the connection, and the lock with it.
  }
}

Result<std::unique_ptr<AdvisoryLock>> AdvisoryLock::Acquire(std::unique_ptr<pqxx::connection>& conn,
                                                            const DatabaseOptions& options,
                                                            const WaitCallback& on_wait,
                                                            const NoLongerNeeded& no_longer_needed) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + options.lock_wait_timeout;
  const std::string lock_name = options.version_table_schema + "." + options.version_table;
  auto next_report = start + std::chrono::seconds(2);
  try {
    // The key is derived on the server so every client agrees on it; the
    // first try rides along in the same round trip.
    pqxx::row first = pqxx::nontransaction(*conn).exec_params1(
        "SELECT k, pg_try_advisory_lock(k) FROM (SELECT hashtextextended('schemagate:' || "
        "current_database() || ':' || $1 || '.' || $2, 0) AS k) s",
        options.version_table_schema, options.version_table);
    const int64_t key = first[0].as<int64_t>();
    if (first[1].as<bool>()) return std::unique_ptr<AdvisoryLock>(new AdvisoryLock(std::move(conn), key));
    // Polled, never a blocking pg_advisory_lock: a waiting statement holds a
    // snapshot, and the holder's CREATE INDEX CONCURRENTLY waits for every
    // older snapshot to end while the holder keeps the lock until it does.
    // Between polls the waiter sits idle (no snapshot) on its socket,
    // LISTENing: a releasing holder NOTIFYs, so the hand-over is immediate
    // and the polls can be sparse. They remain for a holder that dies
    // without a word (its lock goes with its session) and for older
    // versions that do not NOTIFY. Jitter spreads the waiters out.
    auto try_lock = [&]() {
      return pqxx::nontransaction(*conn).exec_params1("SELECT pg_try_advisory_lock($1)", key)[0].as<bool>();
    };
    // LISTEN, then try again: a release between the first try and the
    // LISTEN sent its NOTIFY to nobody.
    pqxx::nontransaction(*conn).exec("LISTEN " + ChannelName(key));
    std::mt19937 rng(std::random_device{}());
    auto delay = std::chrono::milliseconds(10);
    bool released = false;  // a holder said it let go
    while (true) {
      // A release means the holder either finished — the common case when
      // replicas start together, and then the state says so and we are done
      // without ever taking the lock — or failed, and the lock is free.
      if (released && no_longer_needed && no_longer_needed()) return std::unique_ptr<AdvisoryLock>();
      if (try_lock()) return std::unique_ptr<AdvisoryLock>(new AdvisoryLock(std::move(conn), key));
      auto now = Clock::now();
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
      if (now >= deadline) {
        return Status::LockTimeout("timed out after " + FormatDuration(options.lock_wait_timeout) +
                                   " waiting for the migration lock on " + lock_name +
                                   "; it is held by " + DescribeHolder(*conn, key) +
                                   ". If that run is stuck, end its session with "
                                   "pg_terminate_backend(pid); the lock goes with it");
      }
      if (now >= next_report && on_wait) {
        on_wait(DescribeHolder(*conn, key), waited);
        next_report = now + std::chrono::seconds(10);
      }
      std::uniform_int_distribution<int> jitter(0, static_cast<int>(delay.count() / 2));
      auto sleep = std::min<Clock::duration>(delay + std::chrono::milliseconds(jitter(rng)), deadline - now);
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(sleep).count();
      released = conn->await_notification(static_cast<long>(us / 1000000), static_cast<long>(us % 1000000)) > 0;
      delay = std::min(delay * 2, std::chrono::milliseconds(400));
    }
  } catch (const std::exception& e) {
    return StatusFromException(e, "taking the migration lock on " + lock_name, options);
  }
}

}  // namespace schemagate::db
