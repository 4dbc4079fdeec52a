#include "core/duration.h"

#include <cstdint>
#include <limits>

namespace schemagate {
namespace {

constexpr int64_t kMaxMillis = std::numeric_limits<int64_t>::max();

struct Unit {
  std::string_view name;
  int64_t millis;
};

// Largest first: a compound duration lists its parts in this order.
constexpr Unit kUnits[] = {{"h", 3600 * 1000}, {"m", 60 * 1000}, {"s", 1000}, {"ms", 1}};
constexpr size_t kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

Status Invalid(std::string_view text, const std::string& why) {
  return Status::Usage("invalid duration '" + std::string(text) + "': " + why +
                       " (accepted: plain seconds like 30, or a number with a unit: 500ms, 30s, "
                       "5m, 1h, or units combined largest first: 1h30m)");
}

}  // namespace

Result<Millis> ParseDuration(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  int64_t total = 0;
  size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) {
      if (text[i] == '-') return Invalid(text, "a duration cannot be negative");
      return Invalid(text, "expected a number at '" + std::string(text.substr(i)) + "'");
    }
    const size_t number_start = i;
    int64_t number = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      const int digit = text[i] - '0';
      if (number > (kMaxMillis - digit) / 10) return Invalid(text, "too large");
      number = number * 10 + digit;
    }
    const size_t unit_start = i;
    while (i < text.size() && IsLetter(text[i])) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);

    int64_t factor = 0;
    if (unit.empty()) {
      if (i < text.size()) {
        if (text[i] == '.') return Invalid(text, "fractions are not accepted; use a smaller unit");
        return Invalid(text, "unexpected '" + std::string(1, text[i]) + "'");
      }
      if (number_start != 0) {
        return Invalid(text, "'" + std::string(text.substr(number_start)) +
                                 "' has no unit; in a combined duration every number needs one");
      }
      factor = 1000;  // plain seconds
    } else {
      size_t u = 0;
      while (u < kUnitCount && kUnits[u].name != unit) ++u;
      if (u == kUnitCount) return Invalid(text, "unknown unit '" + std::string(unit) + "'");
      if (u < next_unit) {
        return Invalid(text, "units must go from largest to smallest, each at most once");
      }
      factor = kUnits[u].millis;
      next_unit = u + 1;
    }
    if (number > (kMaxMillis - total) / factor) return Invalid(text, "too large");
    total += number * factor;
  }
  return Millis(total);
}

std::string FormatDuration(Millis duration) {
  int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms < 0) {
    // Not produced by ParseDuration; callers may still format a difference.
    if (ms == std::numeric_limits<int64_t>::min()) return std::to_string(ms) + "ms";
    return "-" + FormatDuration(Millis(-ms));
  }
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  std::string out;
  for (size_t u = 0; u + 1 < kUnitCount; ++u) {  // h, m, s
    const int64_t count = ms / kUnits[u].millis;
    if (count > 0) out += std::to_string(count) + std::string(kUnits[u].name);
    ms %= kUnits[u].millis;
  }
  return out;
}

}  // namespace schemagate
