#include "core/duration.h"

#include <cctype>
#include <limits>

namespace schemagate {

Result<Millis> ParseDuration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::Usage("invalid duration '" + std::string(text) + "': " + why +
                         " (use plain seconds like 30, or 500ms, 30s, 5m, 1h, 1h30m)");
  };
  if (text.empty()) return bad("empty");
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad("expected a number");
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > (std::numeric_limits<int64_t>::max() / 10) - 10) return bad("too large");
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t factor;
    if (unit.empty()) {
      if (any || i != text.size()) return bad("a bare number must stand alone");
      factor = 1000;
    } else if (unit == "ms") {
      factor = 1;
    } else if (unit == "s") {
      factor = 1000;
    } else if (unit == "m") {
      factor = 60 * 1000;
    } else if (unit == "h") {
      factor = 3600 * 1000;
    } else {
      return bad("unknown unit '" + std::string(unit) + "'");
    }
    if (n > std::numeric_limits<int64_t>::max() / factor - total) return bad("too large");
    total += n * factor;
    any = true;
  }
  return Millis(total);
}

std::string FormatDuration(Millis duration) {
  int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

}  // namespace schemagate
