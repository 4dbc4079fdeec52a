// The HTTP seam under the Kubernetes client. Only transport_cpprest.cc knows
// which HTTP library does the work; tests and a future swap plug in here.
#ifndef SCHEMAGATE_KUBE_TRANSPORT_H_
#define SCHEMAGATE_KUBE_TRANSPORT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kube/config.h"

namespace schemagate::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path_query;  // "/apis/batch/v1/namespaces/ns/jobs?labelSelector=..."
  std::string body;
  std::string content_type = "application/json";
};

struct HttpResponse {
  int status = 0;           // 0: no HTTP answer (see error)
  std::string body;
  std::string error;        // transport failure: refused, TLS, timeout
};

class Transport {
 public:
  virtual ~Transport() = default;
  // One request, one response. Thread-safe.
  virtual HttpResponse Send(const HttpRequest& request) = 0;
  // A streaming GET (watch): `on_chunk` gets the body as it arrives; return
  // false from it, or set `stop`, to end the stream. The response's body is
  // empty unless the status is not 200. Blocks; run it on its own thread.
  virtual HttpResponse Stream(const HttpRequest& request, const std::function<bool(std::string_view)>& on_chunk,
                              const std::atomic<bool>& stop) = 0;
};

// An HTTP(S) transport for `config`. `idle_timeout` must exceed the watches'
// timeoutSeconds so that a quiet watch is ended by the server, not by us.
std::unique_ptr<Transport> MakeHttpTransport(const ClusterConfig& config, std::chrono::seconds idle_timeout);

}  // namespace schemagate::kube

#endif  // SCHEMAGATE_KUBE_TRANSPORT_H_
