// Scratch databases for work that must never touch the target database:
// autogenerating a revision, `check --schema` and `verify` apply migrations
// and declared schemas to throwaway databases and read their catalogs.
//
// Two sources:
// - `--dev-url URL` names a server to use: a scratch database is created there
//   for each use (CREATE DATABASE, so the role needs CREATEDB) and dropped
//   again when the ScratchServer is destroyed.
// - Without it, a private PostgreSQL is started from the server binaries on
//   this machine (initdb + postgres in a temporary directory, listening on a
//   unix socket only, as the `postgres` user when run as root). It is stopped
//   and its directory removed when the ScratchServer is destroyed, on SIGINT,
//   SIGTERM and SIGHUP (the signal is then re-raised), and the server shuts
//   itself down if this process dies without cleaning up (parent-death
//   signal); only the temporary directory can be left behind then.
#ifndef SCHEMAGATE_DB_SCRATCH_SERVER_H_
#define SCHEMAGATE_DB_SCRATCH_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace schemagate {

class ScratchServer {
 public:
  // Progress lines ("Starting a private PostgreSQL 15 in /tmp/...").
  using Log = std::function<void(const std::string&)>;

  // `dev_url` set: connects to it once to check it works, retrying for up to
  // `connect_timeout` (a CI service may still be starting; kRuntime naming the
  // server, password redacted, if it never works). Unset: starts a private server;
  // kRuntime when no PostgreSQL server binaries are found (saying where it
  // looked and that --dev-url is the alternative) or the server fails to
  // start (with the tail of its log).
  static Result<std::unique_ptr<ScratchServer>> Open(const std::optional<std::string>& dev_url,
                                                     std::chrono::milliseconds connect_timeout, const Log& log);
  ~ScratchServer();
  ScratchServer(const ScratchServer&) = delete;
  ScratchServer& operator=(const ScratchServer&) = delete;

  // Creates an empty database (its name starts with `sg_scratch_`) and
  // returns a connection string for it.
  Result<std::string> CreateDatabase(const std::string& purpose);

  // Where the scratch databases live, for messages (no password).
  std::string description() const;

 private:
  struct Impl;
  explicit ScratchServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace schemagate

#endif  // SCHEMAGATE_DB_SCRATCH_SERVER_H_
