// Transport over cpprestsdk's http_client. Per style: no .get()/.wait()
// inside continuations; the blocking calls here run on the caller's thread.
#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <cpprest/containerstream.h>

#include <thread>

#include "kube/transport.h"

namespace schemagate::kube {
namespace {

namespace http = web::http;

class CpprestTransport : public Transport {
 public:
  CpprestTransport(const ClusterConfig& config, std::chrono::seconds idle_timeout) : config_(config) {
    http::client::http_client_config cfg;
    cfg.set_timeout(idle_timeout);
    cfg.set_validate_certificates(!config.insecure_skip_tls_verify);
    ClusterConfig c = config;
    cfg.set_ssl_context_callback([c](boost::asio::ssl::context& ctx) {
      boost::system::error_code ec;
      if (!c.ca_pem.empty()) ctx.add_certificate_authority(boost::asio::buffer(c.ca_pem), ec);
      if (!c.client_cert_pem.empty()) ctx.use_certificate_chain(boost::asio::buffer(c.client_cert_pem), ec);
      if (!c.client_key_pem.empty()) {
        ctx.use_private_key(boost::asio::buffer(c.client_key_pem), boost::asio::ssl::context::pem, ec);
      }
    });
    client_ = std::make_unique<http::client::http_client>(config.server, cfg);
  }

  // cpprestsdk says only "Error in SSL handshake" when the server's
  // certificate is refused; say where the trusted CA comes from.
  std::string TransportError(const std::exception& e) const {
    std::string what = e.what();
    if (what.find("SSL handshake") != std::string::npos) {
      what += " with " + config_.server +
              ": its certificate is not signed by a CA this client trusts (the certificate-authority or "
              "certificate-authority-data of " + config_.source +
              "; the service account's ca.crt in a cluster), or a client certificate was refused";
    }
    return what;
  }

  http::http_request Build(const HttpRequest& r) const {
    http::http_request req(r.method);
    req.set_request_uri(r.path_query);
    req.headers().add("Accept", "application/json");
    std::string token = config_.BearerToken();
    if (!token.empty()) req.headers().add("Authorization", "Bearer " + token);
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      req.set_body(r.body, r.content_type);
    }
    return req;
  }

  HttpResponse Send(const HttpRequest& r) override {
    HttpResponse out;
    try {
      http::http_response resp = client_->request(Build(r)).get();
      out.status = resp.status_code();
      out.body = resp.extract_utf8string(true).get();
    } catch (const std::exception& e) {
      out.status = 0;
      out.error = TransportError(e);
    }
    return out;
  }

  HttpResponse Stream(const HttpRequest& r, const std::function<bool(std::string_view)>& on_chunk,
                      const std::atomic<bool>& stop) override {
    HttpResponse out;
    try {
      pplx::cancellation_token_source cts;
      // Cancels the request (and a read blocked on a quiet stream) on stop.
      std::atomic<bool> finished{false};
      std::thread canceller([&] {
        while (!finished.load() && !stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (stop.load()) cts.cancel();
      });
      struct Join {
        std::atomic<bool>& finished;
        std::thread& t;
        ~Join() {
          finished = true;
          t.join();
        }
      } join{finished, canceller};
      http::http_response resp = client_->request(Build(r), cts.get_token()).get();
      out.status = resp.status_code();
      if (out.status != 200) {
        out.body = resp.extract_utf8string(true).get();
        return out;
      }
      // read_line hands over each line as soon as it arrives; a plain
      // read(n) would wait for n bytes. A fresh buffer per line, because
      // clearing a stringstreambuf's collection does not rewind it.
      auto body = resp.body();
      while (!stop.load()) {
        concurrency::streams::stringstreambuf line;
        size_t n = body.read_line(line).get();
        if (n == 0 && body.is_eof()) break;  // the server ended the stream
        std::string text = std::move(line.collection());
        text += '\n';
        if (!on_chunk(text)) break;
      }
      cts.cancel();
    } catch (const std::exception& e) {
      out.error = TransportError(e);
      if (out.status == 200) out.status = 0;
    }
    return out;
  }

 private:
  ClusterConfig config_;
  std::unique_ptr<http::client::http_client> client_;
};

}  // namespace

std::unique_ptr<Transport> MakeHttpTransport(const ClusterConfig& config, std::chrono::seconds idle_timeout) {
  return std::make_unique<CpprestTransport>(config, idle_timeout);
}

}  // namespace schemagate::kube
