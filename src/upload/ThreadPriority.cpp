#include "upload/ThreadPriority.hpp"

#include <sys/resource.h>
#include <unistd.h>

namespace callrec::upload {

bool YieldToMediaThreads() {
  return ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) == 0;
}

}  // namespace callrec::upload
