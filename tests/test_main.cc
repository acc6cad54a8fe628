// The one Boost.Test binary: every *_test.cc under tests/ links into it.
#define BOOST_TEST_MODULE presence_agent_tests
#include <boost/test/unit_test.hpp>
