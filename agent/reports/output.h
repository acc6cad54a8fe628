#pragma once

// Shapes shared by the CLI (and later the HTTP API): transitions, totals and the picklist as
// JSON objects, CSV and text a person can check by hand.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "reasoncodes/catalog.h"
#include "tracking/ledger_types.h"

namespace presence {
class JsonWriter;
}  // namespace presence

namespace presence::agent {

// {"at","agent","from","to","status","reason_code","source","cause"}; from is null for a
// user's first change.
void WriteChange(JsonWriter& out, const tracking::Change& change);
Poco::JSON::Object::Ptr ChangeJson(const tracking::Change& change);
// {"agent","label","status","status_name","seconds"}
Poco::JSON::Object::Ptr TotalJson(const tracking::Total& total);
// {"label","reason_code","status","status_name","display","selectable","color","alert_after_seconds"}
Poco::JSON::Object::Ptr StateJson(const reasoncodes::State& state);

Poco::JSON::Array::Ptr ChangesJson(const std::vector<tracking::Change>& changes);
Poco::JSON::Array::Ptr TotalsJson(const std::vector<tracking::Total>& totals);

// One CSV field: quoted when needed (RFC 4180); text a spreadsheet would run as a formula
// (leading = + - @) gets a leading apostrophe.
//
// Why not a library: Poco and cpprestsdk write no CSV, and libcsv (libcsv-dev) quotes every
// field ("plain" becomes "\"plain\""), which would change every export; the formula guard
// (OWASP CSV injection) would be ours in any case. Quoting is RFC 4180 2.6-2.7: a field with a
// comma, quote or line break goes in quotes, quotes doubled.
std::string CsvField(const std::string& text);
// The same, appended to `out` (writers that escape once and reuse the text).
void AppendCsvField(std::string& out, std::string_view text);

// Aligned text tables.
void WriteChangesText(const std::vector<tracking::Change>& changes, std::ostream& out);
void WriteTotalsText(const std::vector<tracking::Total>& totals, std::ostream& out);

}  // namespace presence::agent
