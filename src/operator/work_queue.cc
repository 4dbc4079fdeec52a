#include "operator/work_queue.h"

#include <algorithm>

namespace schemagate::op {

void WorkQueue::Enqueue(const std::string& key) {
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (queued_.insert(key).second) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (shutdown_) return;
  delayed_.erase(key);
  Enqueue(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay.count() <= 0) return Add(key);
  std::lock_guard<std::mutex> l(mu_);
  if (shutdown_) return;
  auto when = Clock::now() + delay;
  auto it = delayed_.find(key);
  if (it == delayed_.end() || when < it->second) delayed_[key] = when;
  cv_.notify_one();
}

bool WorkQueue::Get(std::string* key) {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (shutdown_) return false;
    // Promote delayed keys that are due.
    auto now = Clock::now();
    Clock::time_point next = Clock::time_point::max();
    for (auto it = delayed_.begin(); it != delayed_.end();) {
      if (it->second <= now) {
        std::string k = it->first;
        it = delayed_.erase(it);
        Enqueue(k);
      } else {
        next = std::min(next, it->second);
        ++it;
      }
    }
    if (!queue_.empty()) {
      *key = queue_.front();
      queue_.pop_front();
      queued_.erase(*key);
      processing_.insert(*key);
      return true;
    }
    if (next == Clock::time_point::max()) cv_.wait(l);
    else cv_.wait_until(l, next);
  }
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  processing_.erase(key);
  if (dirty_.erase(key)) Enqueue(key);
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> l(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::Length() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

std::chrono::milliseconds ExponentialBackoff(int failures, std::chrono::milliseconds initial,
                                             std::chrono::milliseconds max) {
  if (failures <= 0) return std::chrono::milliseconds(0);
  auto d = initial;
  for (int i = 1; i < failures && d < max; ++i) d *= 2;
  return std::min(d, max);
}

}  // namespace schemagate::op
