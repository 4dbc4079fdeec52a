// The runner's heap on a pod start.
//
// A no-op `upgrade head` over many migration files touches a few MiB of
// fresh heap, one page fault per 4 KiB page, and on virtual machines those
// faults are a large part of its time. Growing the heap once, up front, on a
// huge-page boundary and asking for transparent huge pages on it turns
// hundreds of faults into a few where the kernel allows THP (`madvise` or
// `always`); elsewhere nothing changes. The cost: up to 8 MiB of address
// space and, with THP, up to a few MiB more resident memory.
#ifndef SCHEMAGATE_CLI_HEAP_H_
#define SCHEMAGATE_CLI_HEAP_H_

namespace schemagate::cli {

// Call first thing in main(), before the heap grows. Not under
// AddressSanitizer, which has its own allocator.
void PrepareHeapForShortRun();

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_HEAP_H_
