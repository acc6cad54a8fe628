#include "common/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace presence {

void NameThisThread(std::string_view name) {
  constexpr size_t kMax = 15;  // the kernel's limit, without the terminating zero
  const std::string shortened(name.substr(0, std::min(name.size(), kMax)));
  pthread_setname_np(pthread_self(), shortened.c_str());  // only fails for a longer name
}

}  // namespace presence
