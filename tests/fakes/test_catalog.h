#pragma once

// A small catalog for engine, core and replay tests, built through the real loader:
//   Ready for Calls *60 (1), Do Not Disturb *61 (4), Wrap-up *61 (4, not selectable),
//   Lunch *62 (3), Meeting *64 (5), On a call *69 (6, not selectable), Offline *68 (2),
//   Logout *67 (7)

#include <memory>
#include <string>

#include "reasoncodes/catalog.h"

namespace presence::testing {

struct TestSettings {
  int wrap_up_seconds = 0;
  bool active_call_state = false;
  bool wrap_up_locked = false;
  bool return_previous = false;
  std::string
      extra_settings;  // more JSON members for "settings", e.g. "\"login_state\": \"Lunch\""
};

std::string TestCatalogJson(const TestSettings& settings);
// Loads any catalog JSON through the real loader; throws std::runtime_error listing every
// problem when it is not a valid catalog (a test's own catalog being wrong is a test bug).
std::shared_ptr<const reasoncodes::Catalog> CatalogFromJson(const std::string& json);
std::shared_ptr<const reasoncodes::Catalog> MakeTestCatalog(const TestSettings& settings);

}  // namespace presence::testing
