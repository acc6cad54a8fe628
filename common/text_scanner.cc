#include "common/text_scanner.h"

namespace presence {

std::optional<std::chrono::sys_days> ScanDate(TextScanner& scan) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (!scan.Digits(4, &y) || !scan.Literal('-') || !scan.Digits(2, &m) || !scan.Literal('-') ||
      !scan.Digits(2, &d)) {
    return std::nullopt;
  }
  // ok() checks the month and the day against the month's length, leap years included.
  std::chrono::year_month_day date{std::chrono::year(y),
                                   std::chrono::month(static_cast<unsigned>(m)),
                                   std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date);
}

}  // namespace presence
