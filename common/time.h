#pragma once

// Instants are UTC milliseconds. On the wire they are ISO-8601 with milliseconds and a Z
// ("2026-11-21T09:30:00.000Z"); durations are seconds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace presence {

using Millis = std::chrono::milliseconds;
using Timestamp = std::chrono::sys_time<Millis>;

inline Timestamp FromEpochMillis(int64_t ms) { return Timestamp(Millis(ms)); }
inline int64_t ToEpochMillis(Timestamp t) { return t.time_since_epoch().count(); }

// "2026-11-21T09:30:00.000Z"
std::string FormatTime(Timestamp t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)" (a space for the T is accepted too,
// and digits past milliseconds are truncated). Returns nullopt for anything else, including
// out-of-range fields such as month 13 or 25:00.
std::optional<Timestamp> ParseTime(std::string_view text);

// Seconds as a number for JSON and CSV: whole seconds print without a fraction, otherwise
// milliseconds ("95", "95.5", "0.125").
std::string FormatSeconds(Millis duration);

// Midnight UTC at or before t, and the UTC day number (days since 1970-01-01).
Timestamp UtcDayStart(Timestamp t);
int64_t UtcDayNumber(Timestamp t);

// Where time comes from. The engine never reads a clock; the event loop and the store's
// "now" do, through this interface, so tests run on a fake clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
};

}  // namespace presence
