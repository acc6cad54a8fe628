#pragma once

// Names the calling thread ("core", "journal-sync", ...) as `top -H`, `ps -L`, gdb and perf
// show it, so an operator can see which part of the agent uses the CPU. Linux keeps 15 bytes;
// a longer name is cut there.

#include <string_view>

namespace presence {

void NameThisThread(std::string_view name);

}  // namespace presence
