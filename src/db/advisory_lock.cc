#include "db/advisory_lock.h"

#include <algorithm>
#include <random>
#include <thread>

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

}  // namespace

AdvisoryLock::AdvisoryLock(std::unique_ptr<pqxx::connection> conn, int64_t key)
    : conn_(std::move(conn)), key_(key) {}

AdvisoryLock::~AdvisoryLock() {
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec_params("SELECT pg_advisory_unlock($1)", key_);
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
    // The key is derived on the server so every client agrees on it.
    int64_t key = pqxx::nontransaction(*conn).exec_params1("SELECT hashtextextended('schemagate:' || current_database() || "
                                  "':' || $1 || '.' || $2, 0)",
                                  options.version_table_schema, options.version_table)[0]
                      .as<int64_t>();
    // Polled, never a blocking pg_advisory_lock: a waiting statement holds a
    // snapshot, and the holder's CREATE INDEX CONCURRENTLY waits for every
    // older snapshot to end while the holder keeps the lock until it does.
    // The poll interval starts short and stays short (the hand-over delay
    // adds to every replica's start), with jitter so waiters spread out.
    std::mt19937 rng(std::random_device{}());
    auto delay = std::chrono::milliseconds(10);
    auto next_check = start + std::chrono::milliseconds(200);
    while (true) {
      bool got = pqxx::nontransaction(*conn)
                     .exec_params1("SELECT pg_try_advisory_lock($1)", key)[0]
                     .as<bool>();
      if (got) return std::unique_ptr<AdvisoryLock>(new AdvisoryLock(std::move(conn), key));
      auto now = Clock::now();
      // The holder may have done our work: many replicas starting at once
      // then finish as soon as the first one does, not one after another.
      // Reading the state costs more than a try-lock, so not on every poll.
      if (no_longer_needed && now >= next_check) {
        if (no_longer_needed()) return std::unique_ptr<AdvisoryLock>();
        now = Clock::now();
        next_check = now + std::chrono::milliseconds(250);
      }
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
      std::uniform_int_distribution<int> jitter(0, static_cast<int>(delay.count()));
      auto sleep = std::min<Clock::duration>(delay + std::chrono::milliseconds(jitter(rng)),
                                             deadline - now);
      std::this_thread::sleep_for(sleep);
      delay = std::min(delay * 2, std::chrono::milliseconds(50));
    }
  } catch (const std::exception& e) {
    return StatusFromException(e, "taking the migration lock on " + lock_name, options);
  }
}

}  // namespace schemagate::db
