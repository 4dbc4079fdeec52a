#include <cpprest/http_listener.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "kube/http_server.h"
#include "kube/replies_in_flight_cpprest.h"

namespace schemagate::kube {
namespace {

namespace http = web::http;

struct ServerState {
  RepliesInFlight replies;
  std::atomic<bool> closing{false};
};

class CpprestServer : public HttpServer {
 public:
  CpprestServer(std::unique_ptr<http::experimental::listener::http_listener> l, std::shared_ptr<ServerState> state,
                std::string address)
      : listener_(std::move(l)), state_(std::move(state)), address_(std::move(address)) {}
  const std::string& address() const override { return address_; }
  ~CpprestServer() override {
    state_->closing = true;
    state_->replies.Drain(std::chrono::seconds(2));
    try {
      listener_->close().wait();
    } catch (...) {
    }
  }

 private:
  std::unique_ptr<http::experimental::listener::http_listener> listener_;
  std::shared_ptr<ServerState> state_;
  std::string address_;
};

// A port the kernel calls free on `host` right now. cpprestsdk registers
// listeners by URI, so two listeners on port 0 would clash ("already
// registered") and neither would learn its port: pick it ourselves.
bool FreePort(const std::string& host, std::string* port, std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), "0", &hints, &found); rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  bool ok = false;
  for (addrinfo* a = found; a != nullptr && !ok; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    char service[NI_MAXSERV];
    ok = bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
         getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0 &&
         getnameinfo(reinterpret_cast<sockaddr*>(&bound), len, nullptr, 0, service, sizeof service,
                     NI_NUMERICSERV) == 0;
    if (ok) *port = service;
    close(fd);
  }
  freeaddrinfo(found);
  if (!ok) *error = "no free port on " + host;
  return ok;
}

}  // namespace

std::unique_ptr<HttpServer> ServeHttp(const std::string& address, std::function<HttpReply(const std::string&)> handler,
                                      std::string* error) {
  std::string host_port = address;
  if (!host_port.empty() && host_port[0] == ':') host_port = "0.0.0.0" + host_port;
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    *error = "'" + address + "' is not HOST:PORT";
    return nullptr;
  }
  if (host_port.substr(colon + 1) == "0") {
    std::string host = host_port.substr(0, colon), port;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!FreePort(host, &port, error)) {
      *error = "cannot listen on " + address + ": " + *error;
      return nullptr;
    }
    host_port = host_port.substr(0, colon + 1) + port;
  }
  try {
    auto listener = std::make_unique<http::experimental::listener::http_listener>("http://" + host_port);
    auto state = std::make_shared<ServerState>();
    listener->support([handler, state](http::http_request req) {
      if (state->closing.load()) {
        state->replies.Add(req.reply(503, "shutting down\n"));
      } else if (req.method() != http::methods::GET) {
        state->replies.Add(req.reply(405, "method not allowed\n"));
      } else {
        HttpReply r = handler(req.relative_uri().path());
        state->replies.Add(req.reply(r.status, r.body, r.content_type));
      }
    });
    listener->open().wait();
    return std::make_unique<CpprestServer>(std::move(listener), std::move(state), host_port);
  } catch (const std::exception& e) {
    *error = "cannot listen on " + address + ": " + e.what();
    return nullptr;
  }
}

}  // namespace schemagate::kube
