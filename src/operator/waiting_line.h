// Migrations waiting for a run slot (--max-concurrent-runs), in the order
// they began to wait. When a run ends, the controller wakes the front of the
// line at once: a freed slot goes to the longest waiter without waiting for
// its next poll, and a thousand waiters are not each polled every second.
#ifndef SCHEMAGATE_OPERATOR_WAITING_LINE_H_
#define SCHEMAGATE_OPERATOR_WAITING_LINE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace schemagate::op {

class WaitingLine {
 public:
  // Joins at the back; a key already in line keeps its place.
  void Join(const std::string& key);
  void Leave(const std::string& key);
  // The first `n` keys, longest waiting first.
  std::vector<std::string> Front(size_t n) const;
  // Whether `key` may take one of `free_slots` slots: it is among the first
  // `free_slots` in line, or (not in line) fewer are waiting than are free.
  bool MayStart(const std::string& key, size_t free_slots) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  uint64_t next_ = 0;
  std::map<uint64_t, std::string> order_;
  std::unordered_map<std::string, uint64_t> place_;
};

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_WAITING_LINE_H_
