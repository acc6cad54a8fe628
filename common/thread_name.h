#pragma once

// Names the calling thread ("core", "journal-sync", ...) as `top -H`, `ps -L`, gdb and perf
// show it, so an operator can see which part of the agent uses the CPU. Linux keeps 15 bytes;
// a longer name is cut there.

#include <string_view>

namespace presence {

void NameThisThread(std::string_view name);

// Gives the calling thread the lowest CPU priority (nice 19; Linux sets it per thread): for
// work that may lag behind, such as writing journaled changes into the ledger's tables, so
// that it takes the CPU the threads a client waits for leave over, and never bursts in front
// of them. A burst of such work on a 2-core machine cost every request's round trip: at
// 1,000 users 3.5% fewer durable changes per second, at 100,000 users 7% fewer (medians of
// 5 and 3 runs). Work that falls behind is caught up by back-pressure, which stops commits
// (and so frees the CPU) at its limit.
void MakeThisThreadBackground();

}  // namespace presence
