#include "common/thread_name.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace presence {

void NameThisThread(std::string_view name) {
  constexpr size_t kMax = 15;  // the kernel's limit, without the terminating zero
  const std::string shortened(name.substr(0, std::min(name.size(), kMax)));
  pthread_setname_np(pthread_self(), shortened.c_str());  // only fails for a longer name
}

void LowerThisThreadsPriority(int nice) {
  // On Linux the nice value belongs to the thread: PRIO_PROCESS with the thread's own id.
  // Failing (a system that forbids it) leaves the thread as it was: a matter of speed only.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
}

}  // namespace presence
