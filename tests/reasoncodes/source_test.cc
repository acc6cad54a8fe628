#include "reasoncodes/source.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string_view>

namespace presence::reasoncodes {
namespace {

BOOST_AUTO_TEST_SUITE(source_test)

// The ledger stores these names: they must read back as the source that wrote them.
BOOST_AUTO_TEST_CASE(every_source_reads_back_from_its_ledger_name) {
  for (Source source : {Source::kAgent, Source::kCrm, Source::kSupervisor, Source::kCall,
                        Source::kWrapUp, Source::kSystem, Source::kPbx}) {
    std::optional<Source> back = SourceFromName(SourceName(source));
    BOOST_TEST((back == source), SourceName(source));
  }
  BOOST_TEST(SourceName(Source::kWrapUp) == "wrap_up");
  BOOST_TEST(!SourceFromName("Agent").has_value());
  BOOST_TEST(!SourceFromName("").has_value());
}

// The list messages offer ("... is not a source (agent, crm, ...)").
BOOST_AUTO_TEST_CASE(source_names_list_every_source_in_order) {
  BOOST_TEST(SourceNames() == "agent, crm, supervisor, call, wrap_up, system, pbx");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::reasoncodes
