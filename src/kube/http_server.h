// A tiny HTTP server for /healthz, /readyz and /metrics. The HTTP library
// stays behind this interface, like Transport.
#ifndef SCHEMAGATE_KUBE_HTTP_SERVER_H_
#define SCHEMAGATE_KUBE_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

namespace schemagate::kube {

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // "host:port" actually listened on (the port chosen when asked for 0).
  virtual const std::string& address() const = 0;
};

// Serves GET requests on `address` ("host:port", ":port" = all interfaces;
// port 0 = a free port, see HttpServer::address) with `handler(path)`.
// Returns nullptr and sets `error` when it cannot listen.
std::unique_ptr<HttpServer> ServeHttp(const std::string& address,
                                      std::function<HttpReply(const std::string& path)> handler, std::string* error);

}  // namespace schemagate::kube

#endif  // SCHEMAGATE_KUBE_HTTP_SERVER_H_
