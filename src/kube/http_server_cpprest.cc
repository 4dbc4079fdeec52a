#include <cpprest/http_listener.h>

#include "kube/http_server.h"

namespace schemagate::kube {
namespace {

namespace http = web::http;

class CpprestServer : public HttpServer {
 public:
  explicit CpprestServer(std::unique_ptr<http::experimental::listener::http_listener> l) : listener_(std::move(l)) {}
  ~CpprestServer() override {
    try {
      listener_->close().wait();
    } catch (...) {
    }
  }

 private:
  std::unique_ptr<http::experimental::listener::http_listener> listener_;
};

}  // namespace

std::unique_ptr<HttpServer> ServeHttp(const std::string& address, std::function<HttpReply(const std::string&)> handler,
                                      std::string* error) {
  std::string host_port = address;
  if (!host_port.empty() && host_port[0] == ':') host_port = "0.0.0.0" + host_port;
  try {
    auto listener = std::make_unique<http::experimental::listener::http_listener>("http://" + host_port);
    listener->support([handler](http::http_request req) {
      if (req.method() != http::methods::GET) {
        req.reply(405, "method not allowed\n");
        return;
      }
      HttpReply r = handler(req.relative_uri().path());
      req.reply(r.status, r.body, r.content_type);
    });
    listener->open().wait();
    return std::make_unique<CpprestServer>(std::move(listener));
  } catch (const std::exception& e) {
    *error = "cannot listen on " + address + ": " + e.what();
    return nullptr;
  }
}

}  // namespace schemagate::kube
