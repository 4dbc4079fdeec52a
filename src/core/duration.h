// Durations as users write them: plain seconds ("30") or with a unit
// ("500ms", "30s", "5m", "1h"), units combined largest first ("1h30m").
// Used by flags and config values.
#ifndef SCHEMAGATE_CORE_DURATION_H_
#define SCHEMAGATE_CORE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace schemagate {

using Millis = std::chrono::milliseconds;

// Whole non-negative numbers only; each unit at most once, largest first
// ("1h30m", "1m500ms"); a number without a unit must stand alone. kUsage on
// anything else (empty, negative, fractions, spaces, unknown unit, overflow),
// with a message that quotes the input and shows the accepted forms.
Result<Millis> ParseDuration(std::string_view text);

// The shortest exact form, for messages: whole seconds in the largest units
// with zero parts left out ("30s", "5m", "1h30m", "1m30s"), anything else in
// milliseconds ("500ms", "1500ms"); zero is "0s", a negative value gets a
// leading '-'. ParseDuration reads any non-negative result back unchanged.
std::string FormatDuration(Millis duration);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_DURATION_H_
