#pragma once

// What the Salesforce tests set up around a FakeSalesforce: the sample metadata's fields and
// a connector block that signs in to the fake.

#include <Poco/JSON/Object.h>

#include <string>

#include "tests/fakes/fake_salesforce.h"

namespace presence::testing {

// The fields of `object` as samples/salesforce/force-app/main/default/objects/<object>/fields
// defines them (each field-meta.xml's fullName and type), so the fake refuses what an org with
// that metadata would refuse. Throws std::runtime_error on a type the fake does not model.
FakeFields SampleObjectFields(const std::string& object);

// A client_credentials block with FakeSalesforceConfig's default client, logging in at `url`,
// with the keys of the JSON object `extra` set (a null value removes the key).
Poco::JSON::Object::Ptr SalesforceBlock(const std::string& url, const std::string& extra = "{}");

}  // namespace presence::testing
