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

// "2026-11-21T09:30:00.000Z". The same text as date::format("%FT%TZ", t) for years 0000-9999
// (time_test checks it), written digit by digit because every answer and stream update holds
// several: date::format costs about four times as much as snprintf, snprintf several times as
// much as this.
std::string FormatTime(Timestamp t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)" (a space for the T is accepted too,
// and digits past milliseconds are truncated). Returns nullopt for anything else, including
// out-of-range fields such as month 13 or 25:00.
//
// Why not date::parse (checked with howardhinnant date 3.0): it needs one pattern per form ("Z"
// or an offset, "T" or a space), refuses more than three fraction digits for a millisecond
// time instead of truncating them, and accepts what this API refuses: one-digit fields
// ("2026-1-5T9:30:00Z"), a two-digit year (as year 26), a leading '+' and "09:30:00.Z".
// Poco::DateTimeParser (ISO8601_FRAC_FORMAT) takes one-digit fields and a two-digit year too,
// and keeps a leap second "09:30:60" as such. The fixed-width fields are read by
// TextScanner (text_scanner.h); the calendar arithmetic is std::chrono's.
std::optional<Timestamp> ParseTime(std::string_view text);

// Durations as text: the one rule per shape. Every report, export, API answer and connector
// body writes seconds with these (JsonWriter::Seconds is FormatSeconds), so a figure reads the
// same in CSV, JSON, text and Salesforce.
//
// Seconds as a number for JSON and CSV: whole seconds print without a fraction, otherwise
// milliseconds without trailing zeros ("95", "95.5", "0.125", "-0.5"); never an exponent.
std::string FormatSeconds(Millis duration);
// Hours, minutes and seconds for people (text reports): "1:05:09" for 3909.5 s. Hours are not
// wrapped at 24; milliseconds are dropped (truncated toward zero).
std::string FormatHms(Millis duration);

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
