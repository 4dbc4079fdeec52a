// A work queue keyed by object ("namespace/name"): a key is queued at most
// once, never handed to two workers at once, and may be scheduled for later
// (timed requeues for backoff and waiting on something outside).
#ifndef SCHEMAGATE_OPERATOR_WORK_QUEUE_H_
#define SCHEMAGATE_OPERATOR_WORK_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace schemagate::op {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (an earlier schedule wins).
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Blocks for the next key; false once ShutDown() was called.
  bool Get(std::string* key);
  // Marks `key` processed; if it was added meanwhile it is queued again.
  void Done(const std::string& key);
  void ShutDown();
  size_t Length() const;

 private:
  void Enqueue(const std::string& key);  // mu_ held
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;
  std::set<std::string> processing_;
  std::set<std::string> dirty_;  // added while processing
  std::map<std::string, Clock::time_point> delayed_;
  bool shutdown_ = false;
};

// Per-key exponential backoff for requeues after errors.
std::chrono::milliseconds ExponentialBackoff(int failures, std::chrono::milliseconds initial,
                                             std::chrono::milliseconds max);

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_WORK_QUEUE_H_
