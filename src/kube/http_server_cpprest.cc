#include <cpprest/http_listener.h>

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
  CpprestServer(std::unique_ptr<http::experimental::listener::http_listener> l, std::shared_ptr<ServerState> state)
      : listener_(std::move(l)), state_(std::move(state)) {}
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
};

}  // namespace

std::unique_ptr<HttpServer> ServeHttp(const std::string& address, std::function<HttpReply(const std::string&)> handler,
                                      std::string* error) {
  std::string host_port = address;
  if (!host_port.empty() && host_port[0] == ':') host_port = "0.0.0.0" + host_port;
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
    return std::make_unique<CpprestServer>(std::move(listener), std::move(state));
  } catch (const std::exception& e) {
    *error = "cannot listen on " + address + ": " + e.what();
    return nullptr;
  }
}

}  // namespace schemagate::kube
