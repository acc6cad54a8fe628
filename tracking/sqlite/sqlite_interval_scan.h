#pragma once

// TimeStore::ScanIntervals for SQLite ledgers. Each scan opens a read-only connection of its own
// and reads from one read transaction, so a long export (a visitor writing to a slow client)
// neither holds the shared reader's mutex nor stops the writer: WAL lets commits go on beside
// the scan's snapshot.

#include <string>
#include <vector>

#include "common/result.h"
#include "tracking/ledger_types.h"

namespace presence::tracking {

// Scans the ledger at `path` (schema version 1 or later). Rows are streamed from prepared
// statements on the (agent, start_ms) index, one at a time. "storage_error" when the file
// cannot be read.
Status ScanLedgerIntervals(const std::string& path, const IntervalScan& scan,
                           IntervalVisitor& visitor);

// The scan's queries (the interval before the range, then the range's intervals), both read
// from the report index alone (schema 6): for tests that check their query plans.
const std::vector<std::string>& IntervalScanQueries();

}  // namespace presence::tracking
