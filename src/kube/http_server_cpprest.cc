#include <cpprest/http_listener.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "kube/http_server.h"

namespace schemagate::kube {
namespace {

namespace http = web::http;

// Replies still being sent. cpprestsdk's listener can crash when close()
// tears down a connection while a reply is being written to it, so shutdown
// first lets them finish.
struct InFlight {
  std::mutex mu;
  std::vector<pplx::task<void>> replies;
  std::atomic<bool> closing{false};

  void Add(pplx::task<void> t) {
    std::lock_guard<std::mutex> l(mu);
    replies.erase(std::remove_if(replies.begin(), replies.end(), [](const pplx::task<void>& r) { return r.is_done(); }),
                  replies.end());
    replies.push_back(std::move(t));
  }

  // Bounded: a client that stopped reading must not hold up SIGTERM.
  void Drain(std::chrono::milliseconds limit) {
    std::vector<pplx::task<void>> pending;
    {
      std::lock_guard<std::mutex> l(mu);
      pending.swap(replies);
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (auto& r : pending) {
      while (!r.is_done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    // A reply is marked sent a moment before its connection goes back to
    // reading the next request on the same socket.
    if (!pending.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
};

class CpprestServer : public HttpServer {
 public:
  CpprestServer(std::unique_ptr<http::experimental::listener::http_listener> l, std::shared_ptr<InFlight> in_flight)
      : listener_(std::move(l)), in_flight_(std::move(in_flight)) {}
  ~CpprestServer() override {
    in_flight_->closing = true;
    in_flight_->Drain(std::chrono::seconds(2));
    try {
      listener_->close().wait();
    } catch (...) {
    }
  }

 private:
  std::unique_ptr<http::experimental::listener::http_listener> listener_;
  std::shared_ptr<InFlight> in_flight_;
};

}  // namespace

std::unique_ptr<HttpServer> ServeHttp(const std::string& address, std::function<HttpReply(const std::string&)> handler,
                                      std::string* error) {
  std::string host_port = address;
  if (!host_port.empty() && host_port[0] == ':') host_port = "0.0.0.0" + host_port;
  try {
    auto listener = std::make_unique<http::experimental::listener::http_listener>("http://" + host_port);
    auto in_flight = std::make_shared<InFlight>();
    listener->support([handler, in_flight](http::http_request req) {
      if (in_flight->closing.load()) {
        in_flight->Add(req.reply(503, "shutting down\n"));
      } else if (req.method() != http::methods::GET) {
        in_flight->Add(req.reply(405, "method not allowed\n"));
      } else {
        HttpReply r = handler(req.relative_uri().path());
        in_flight->Add(req.reply(r.status, r.body, r.content_type));
      }
    });
    listener->open().wait();
    return std::make_unique<CpprestServer>(std::move(listener), std::move(in_flight));
  } catch (const std::exception& e) {
    *error = "cannot listen on " + address + ": " + e.what();
    return nullptr;
  }
}

}  // namespace schemagate::kube
