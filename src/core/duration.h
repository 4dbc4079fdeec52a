// Durations as users write them: plain seconds ("30") or with a unit
// ("500ms", "30s", "5m", "1h"). Used by flags and config values.
#ifndef SCHEMAGATE_CORE_DURATION_H_
#define SCHEMAGATE_CORE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace schemagate {

using Millis = std::chrono::milliseconds;

// kUsage on anything else (negative, empty, unknown unit, overflow), with a
// message that quotes the input and shows the accepted forms.
Result<Millis> ParseDuration(std::string_view text);

// "500ms", "30s", "5m", "1h30m" — for messages and for PostgreSQL settings.
std::string FormatDuration(Millis duration);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_DURATION_H_
