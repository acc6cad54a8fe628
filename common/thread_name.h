#pragma once

// Names the calling thread ("core", "journal-sync", ...) as `top -H`, `ps -L`, gdb and perf
// show it, so an operator can see which part of the agent uses the CPU. Linux keeps 15 bytes;
// a longer name is cut there.

#include <string_view>

namespace presence {

void NameThisThread(std::string_view name);

// Lowers the calling thread's CPU priority to `nice` (Linux sets it per thread): for work that
// may lag behind, such as writing journaled changes into the ledger's tables, so that it takes
// the CPU the threads a client waits for leave over rather than bursting in front of them. On 2
// cores a fold (about a tenth of a second of SQLite work every 500 ms under load) at nice 10 let
// the agent answer 4% more durable changes per second at 1,000 users and 2% more at 100,000
// (medians of 4 and 3 runs; nice 19 did as well at 1,000 users and 7% better at 100,000). Not
// 19: such a thread still takes locks the request path needs now and then, briefly, and at
// nice 19 a CPU kept busy by other work (a long report) could leave it holding one for long.
void LowerThisThreadsPriority(int nice);

}  // namespace presence
