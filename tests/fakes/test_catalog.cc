#include "tests/fakes/test_catalog.h"

#include <stdexcept>

#include "reasoncodes/catalog_loader.h"

namespace presence::testing {

std::string TestCatalogJson(const TestSettings& s) {
  std::string settings = "\"wrap_up_seconds\": " + std::to_string(s.wrap_up_seconds) +
                         ", \"active_call_state\": " + (s.active_call_state ? "true" : "false") +
                         ", \"wrap_up_locked\": " + (s.wrap_up_locked ? "true" : "false") +
                         ", \"return_after_call\": \"" +
                         (s.return_previous ? "previous" : "ready") +
                         "\", \"wrap_up_state\": \"Wrap-up\"";
  if (!s.extra_settings.empty()) settings += ", " + s.extra_settings;
  return R"({"settings": {)" + settings + R"(}, "states": [
    {"label": "Ready for Calls", "reason_code": "*60", "status": 1},
    {"label": "Do Not Disturb", "reason_code": "*61", "status": 4},
    {"label": "Wrap-up", "reason_code": "*61", "status": 4, "selectable": false},
    {"label": "Lunch", "reason_code": "*62", "status": 3},
    {"label": "Meeting", "reason_code": "*64", "status": 5},
    {"label": "On a call", "reason_code": "*69", "status": 6, "selectable": false},
    {"label": "Offline", "reason_code": "*68", "status": 2},
    {"label": "Logout", "reason_code": "*67", "status": 7}
  ]})";
}

std::shared_ptr<const reasoncodes::Catalog> CatalogFromJson(const std::string& json) {
  reasoncodes::CatalogLoad load = reasoncodes::LoadCatalogText(json);
  if (!load.ok()) {
    std::string text;
    for (const std::string& problem : load.problems) text += problem + "; ";
    throw std::runtime_error("test catalog invalid: " + text);
  }
  return std::make_shared<const reasoncodes::Catalog>(std::move(*load.catalog));
}

std::shared_ptr<const reasoncodes::Catalog> MakeTestCatalog(const TestSettings& settings) {
  return CatalogFromJson(TestCatalogJson(settings));
}

}  // namespace presence::testing
