#pragma once
// Weights on 2 MiB pages for the native decode step, which streams every matrix once per token:
// on 4 KiB pages the stream pays a TLB miss every 4 KiB (measured here: 21.5-25.4 GB/s read on
// 4 KiB pages, 28.8-31.2 GB/s on 2 MiB ones, one thread; docs/benchmarks.md). This machine's
// transparent huge pages are madvise-only, so the memory has to ask for them.
//
// Two ways in: a model loads straight into a HugeArena (ArenaLoadScope around torch::jit::load:
// no copy), or, where it did not (an older export relaid at load, an arena that filled up), the
// step moves its matrices into one (move_to_huge_pages).

#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sadi::native {

// One reserved, 2 MiB-aligned anonymous mapping asked to be on transparent huge pages, handed out
// front to back (64-byte aligned blocks). It is unmapped when the last block and owner let go.
class HugeArena {
 public:
  // Null when the mapping fails.
  static std::shared_ptr<HugeArena> reserve(size_t capacity);
  ~HugeArena();
  HugeArena(const HugeArena&) = delete;
  HugeArena& operator=(const HugeArena&) = delete;

  // A block of n bytes, or null when the arena is full.
  void* take(size_t n);
  bool holds(const void* p, size_t n) const;
  size_t used() const;
  // MADV_COLLAPSE over the used part: "2 MiB pages", or "4 KiB pages ...: why".
  std::string collapse() const;
  // Faults in the first `bytes` (MADV_POPULATE_WRITE, Linux 5.14+; a no-op before), in chunks.
  void prefault(size_t bytes) const;

 private:
  HugeArena(char* base, size_t capacity) : base_(base), capacity_(capacity) {}
  char* base_;
  size_t capacity_;
  size_t used_ = 0;
  mutable std::mutex mutex_;
};

// While alive, LibTorch's CPU allocations (the storages torch::jit::load reads a model's
// weights into) come from `arena` until it is full, then from the allocator before it, which is
// back when the scope ends. Freed blocks of 2 MiB or more give their whole pages back.
class ArenaLoadScope {
 public:
  // `prefault` bytes of the arena are faulted in on a second thread while the load reads into
  // them (huge-page faults cost what the read itself does here: docs/benchmarks.md).
  ArenaLoadScope(std::shared_ptr<HugeArena> arena, size_t prefault);
  ~ArenaLoadScope();
  ArenaLoadScope(const ArenaLoadScope&) = delete;
  ArenaLoadScope& operator=(const ArenaLoadScope&) = delete;
  // False where another allocator of higher priority kept its place (nothing goes to the arena).
  bool active() const { return active_; }

 private:
  bool active_ = false;
  std::thread prefaulter_;
};

// Moves the matrices into one new arena (set_data: the module's own parameters are re-pointed,
// the old storages freed). Returns what pages they are on, as HugeArena::collapse.
std::string move_to_huge_pages(const std::vector<torch::Tensor*>& mats);

// Whether huge pages are off by SADI_NATIVE_HUGE_PAGES=0.
bool huge_pages_disabled();

}  // namespace sadi::native
