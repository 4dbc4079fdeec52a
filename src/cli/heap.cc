#include "cli/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace schemagate::cli {
namespace {

void* volatile g_filler = nullptr;

}  // namespace

void PrepareHeapForShortRun() {
#if !defined(__SANITIZE_ADDRESS__)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  constexpr size_t kReserve = size_t{8} << 20;
  // Allocations up to kReserve stay on the brk heap, and the heap is never
  // trimmed: the region advised below is the one every allocation uses.
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kReserve)) == 0) return;
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * kReserve));
  // One arena: the thread that reads the migration files allocates from
  // this heap too, not from a fresh per-thread one.
  mallopt(M_ARENA_MAX, 1);
  // Move the next allocation to a huge-page boundary: a huge page must lie
  // wholly inside the heap. A probe too large for any free fragment shows
  // where the top of the heap starts; a filler up to the boundary is never
  // freed (at most 2 MiB of address space, never touched, never resident).
  void* probe = malloc(64 << 10);
  if (probe == nullptr) return;
  const auto top = reinterpret_cast<uintptr_t>(probe);
  free(probe);
  const uintptr_t aligned = (top + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned - top > 64) {
    g_filler = malloc(aligned - top - 32);  // kept in a global: an unused malloc may be elided
  }
  // Grow the heap once and hand the space back to malloc's top chunk, then
  // ask for transparent huge pages on it.
  void* block = malloc(kReserve - kHugePage);
  if (block == nullptr) return;
  free(block);
  const auto end = reinterpret_cast<uintptr_t>(sbrk(0)) & ~(kHugePage - 1);
  if (end > aligned) madvise(reinterpret_cast<void*>(aligned), end - aligned, MADV_HUGEPAGE);
#endif
}

}  // namespace schemagate::cli
