// Lets callrec-lambda run on Amazon Linux 2023, whose glibc is 2.34.
//
// The static libstdc++ and libgcc of this (glibc 2.36) build call two functions
// glibc only added later: arc4random (2.36, std::random_device) and
// _dl_find_object (2.35, the exception unwinder). Defining them here makes the
// linker bind those calls to these definitions instead of the versioned glibc
// symbols; both are built on interfaces glibc 2.34 has (getrandom,
// dl_iterate_phdr). tests/interop/test_lambda.py checks the binary asks glibc
// for nothing newer than 2.34, and that exceptions still unwind.
#include <dlfcn.h>
#include <link.h>
#include <sys/random.h>

#include <cstdint>
#include <cstring>

extern "C" {

std::uint32_t arc4random() {
  std::uint32_t value = 0;
  while (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
  }
  return value;
}

namespace {

struct FindObject {
  std::uintptr_t address;
  dl_find_object* result;
  bool found;
};

int VisitObject(dl_phdr_info* info, std::size_t, void* data) {
  auto* find = static_cast<FindObject*>(data);
  const ElfW(Phdr)* eh_frame = nullptr;
  std::uintptr_t start = UINTPTR_MAX;
  std::uintptr_t end = 0;
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_GNU_EH_FRAME) eh_frame = &ph;
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    const std::uintptr_t hi = lo + ph.p_memsz;
    if (lo < start) start = lo;
    if (hi > end) end = hi;
    if (find->address >= lo && find->address < hi) contains = true;
  }
  if (!contains) return 0;
  std::memset(find->result, 0, sizeof *find->result);
  // Addresses from the program headers are integers: they become pointers here.
  // NOLINTBEGIN(performance-no-int-to-ptr)
  find->result->dlfo_map_start = reinterpret_cast<void*>(start);
  find->result->dlfo_map_end = reinterpret_cast<void*>(end);
  find->result->dlfo_eh_frame =
      eh_frame ? reinterpret_cast<void*>(info->dlpi_addr + eh_frame->p_vaddr) : nullptr;
  // NOLINTEND(performance-no-int-to-ptr)
  find->found = true;
  return 1;
}

}  // namespace

int _dl_find_object(void* address, dl_find_object* result) noexcept {
  FindObject find{reinterpret_cast<std::uintptr_t>(address), result, false};
  dl_iterate_phdr(VisitObject, &find);
  return find.found ? 0 : -1;
}

}  // extern "C"
