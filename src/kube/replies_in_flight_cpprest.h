// Replies a cpprestsdk http_listener is still sending. Its close() can crash
// (SIGSEGV in epoll_reactor::start_op) when it tears down a connection while
// a reply is being written to it, so a server drains these first. Included
// only by code that already uses cpprestsdk's listener.
#ifndef SCHEMAGATE_KUBE_REPLIES_IN_FLIGHT_CPPREST_H_
#define SCHEMAGATE_KUBE_REPLIES_IN_FLIGHT_CPPREST_H_

#include <pplx/pplxtasks.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace schemagate::kube {

class RepliesInFlight {
 public:
  // `sent` is what http_request::reply returned.
  void Add(pplx::task<void> sent) {
    std::lock_guard<std::mutex> l(mu_);
    replies_.erase(std::remove_if(replies_.begin(), replies_.end(), [](const pplx::task<void>& r) { return r.is_done(); }),
                   replies_.end());
    replies_.push_back(std::move(sent));
  }

  // Waits until every reply added so far is sent, at most `limit`: a client
  // that stopped reading must not hold up a shutdown.
  void Drain(std::chrono::milliseconds limit) {
    std::vector<pplx::task<void>> pending;
    {
      std::lock_guard<std::mutex> l(mu_);
      pending.swap(replies_);
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (auto& r : pending) {
      while (!r.is_done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    // A reply is marked sent a moment before its connection goes back to
    // reading the next request on the same socket: let that settle too.
    if (!pending.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

 private:
  std::mutex mu_;
  std::vector<pplx::task<void>> replies_;
};

}  // namespace schemagate::kube

#endif  // SCHEMAGATE_KUBE_REPLIES_IN_FLIGHT_CPPREST_H_
