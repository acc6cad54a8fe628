#pragma once

// Ledgers with some history, and the ways disks and people damage them, for tests of what the
// agent does with a ledger it should not trust.

#include <string>
#include <vector>

namespace presence::testing {

// Writes `changes` changes for each of `users` into the ledger at `path` (created if missing),
// one a minute from 2026-11-20T00:00:00Z, cycling through states of the dial-command sample
// ("Ready for Calls", "Lunch", "Break", "Ready for Calls", ... ), and closes it again, so the
// file is complete without its -wal. Throws std::runtime_error when the store refuses.
void WriteLedgerHistory(const std::string& path, const std::vector<std::string>& users,
                        int changes);

// Commits one more interval through a connection that does not checkpoint when it closes, so
// the (closed) ledger is left with a -wal beside it, as a crash leaves it.
void LeaveWal(const std::string& path);

// Overwrites `count` whole pages in the middle of the (closed) ledger with pseudo-random bytes,
// the same on every run: what a failing disk or a stray write leaves behind.
void OverwriteMiddlePages(const std::string& path, int count);

// Leaves the (closed) ledger with one interval that the index intervals_by_start does not list,
// every page still well-formed: damage PRAGMA quick_check cannot see and integrity_check
// reports ("missing from index").
void DropIndexEntry(const std::string& path);

// Gives every closed interval of `agent` a status no program knows, through a connection of
// its own (also beside a running agent): scanning those rows fails; the open interval, and so
// start-up and the list of users, still read.
void SpoilIntervalsOf(const std::string& path, const std::string& agent);

// The file's bytes ("" when it cannot be read), to show that a refused file was left alone.
std::string FileBytes(const std::string& path);

}  // namespace presence::testing
