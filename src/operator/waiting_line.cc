#include "operator/waiting_line.h"

namespace schemagate::op {

void WaitingLine::Join(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (place_.count(key)) return;
  place_[key] = next_;
  order_[next_++] = key;
}

void WaitingLine::Leave(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = place_.find(key);
  if (it == place_.end()) return;
  order_.erase(it->second);
  place_.erase(it);
}

std::vector<std::string> WaitingLine::Front(size_t n) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (auto it = order_.begin(); it != order_.end() && out.size() < n; ++it) out.push_back(it->second);
  return out;
}

bool WaitingLine::MayStart(const std::string& key, size_t free_slots) const {
  std::lock_guard<std::mutex> l(mu_);
  if (!place_.count(key)) return place_.size() < free_slots;
  size_t ahead = 0;
  for (auto it = order_.begin(); it != order_.end() && ahead < free_slots; ++it, ++ahead) {
    if (it->second == key) return true;
  }
  return false;
}

size_t WaitingLine::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return place_.size();
}

}  // namespace schemagate::op
