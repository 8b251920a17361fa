#include "native/huge_pages.hpp"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "sadi/core/strings.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1 (older headers lack the name; older kernels answer EINVAL)
#endif

namespace sadi::native {
namespace {

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kAlign = 64;  // LibTorch's own CPU alignment

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// 2 MiB-aligned anonymous memory of `len` bytes (a multiple of 2 MiB) asked to be on huge pages
// before the first touch, so faults take huge pages; null when the mapping fails.
char* map_huge(size_t len) {
  void* p = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto raw = reinterpret_cast<uintptr_t>(p);
  const uintptr_t base = (raw + kHuge - 1) & ~(kHuge - 1);
  if (base > raw) munmap(p, base - raw);
  if (raw + kHuge > base) munmap(reinterpret_cast<void*>(base + len), raw + kHuge - base);
  madvise(reinterpret_cast<void*>(base), len, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(base);
}

// A block handed out by the allocator below; it keeps its arena mapped.
struct Block {
  std::shared_ptr<HugeArena> arena;
  char* data;
  size_t bytes;
};

// Gives back the whole 2 MiB pages of a freed block (smaller holes stay until the arena goes:
// giving back part of a huge page would split it).
void release_block(void* context) {
  auto* block = static_cast<Block*>(context);
  const auto lo = round_up(reinterpret_cast<uintptr_t>(block->data), kHuge);
  const auto hi = (reinterpret_cast<uintptr_t>(block->data) + block->bytes) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  delete block;
}

// LibTorch's CPU allocator while an ArenaLoadScope lives. One instance for the process: storages
// keep a pointer to the allocator that made them, so it never goes away; with no arena it
// forwards to the allocator it replaced.
class ArenaAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    std::shared_ptr<HugeArena> arena = current();
    if (arena && n > 0) {
      if (void* p = arena->take(n)) {
        return {p, new Block{arena, static_cast<char*>(p), n}, &release_block, c10::Device(c10::kCPU)};
      }
    }
    return previous_->allocate(n);
  }
  void copy_data(void* dest, const void* src, size_t count) const override { default_copy_data(dest, src, count); }

  bool install(std::shared_ptr<HugeArena> arena) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (previous_ == nullptr) previous_ = c10::GetCPUAllocator();
    arena_ = std::move(arena);
    c10::SetCPUAllocator(this, 0);
    return c10::GetCPUAllocator() == this;
  }
  void uninstall() {
    std::lock_guard<std::mutex> lock(mutex_);
    arena_.reset();
    if (c10::GetCPUAllocator() == this) c10::SetCPUAllocator(previous_, 0);
  }

 private:
  std::shared_ptr<HugeArena> current() {
    std::lock_guard<std::mutex> lock(mutex_);
    return arena_;
  }
  std::mutex mutex_;
  std::shared_ptr<HugeArena> arena_;
  c10::Allocator* previous_ = nullptr;
};

ArenaAllocator& arena_allocator() {
  static auto* instance = new ArenaAllocator();  // never destroyed: storages may outlive static teardown
  return *instance;
}

}  // namespace

std::shared_ptr<HugeArena> HugeArena::reserve(size_t capacity) {
  const size_t len = round_up(std::max<size_t>(capacity, 1), kHuge);
  char* base = map_huge(len);
  if (base == nullptr) return nullptr;
  return std::shared_ptr<HugeArena>(new HugeArena(base, len));
}

HugeArena::~HugeArena() { munmap(base_, capacity_); }

void* HugeArena::take(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t slot = round_up(n, kAlign);
  if (slot > capacity_ - used_) return nullptr;
  void* p = base_ + used_;
  used_ += slot;
  return p;
}

bool HugeArena::holds(const void* p, size_t n) const {
  const auto* c = static_cast<const char*>(p);
  return c >= base_ && c + n <= base_ + capacity_;
}

size_t HugeArena::used() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return used_;
}

std::string HugeArena::collapse() const {
  const size_t len = round_up(used(), kHuge);
  if (len == 0) return "2 MiB pages";
  // Where faults did not get huge pages (fragmented memory), collapse now (Linux 6.1+); cheap
  // where they all did.
  if (madvise(base_, len, MADV_COLLAPSE) == 0) return "2 MiB pages";
  return str("4 KiB pages where the kernel had no huge page: ", std::strerror(errno));
}

void HugeArena::prefault(size_t bytes) const {
  constexpr size_t kChunk = size_t{8} << 20;
  for (size_t at = 0; at < std::min(bytes, capacity_); at += kChunk) {
    if (madvise(base_ + at, std::min(kChunk, capacity_ - at), MADV_POPULATE_WRITE) != 0) return;
  }
}

ArenaLoadScope::ArenaLoadScope(std::shared_ptr<HugeArena> arena, size_t prefault) {
  if (!arena) return;
  active_ = arena_allocator().install(arena);
  if (active_ && prefault > 0) prefaulter_ = std::thread([arena, prefault] { arena->prefault(prefault); });
}

ArenaLoadScope::~ArenaLoadScope() {
  if (prefaulter_.joinable()) prefaulter_.join();
  arena_allocator().uninstall();
}

std::string move_to_huge_pages(const std::vector<torch::Tensor*>& mats) {
  size_t total = 0;
  for (const auto* t : mats) total += round_up(t->nbytes(), kAlign);
  auto arena = HugeArena::reserve(total);
  if (!arena) return str("4 KiB pages: mmap failed: ", std::strerror(errno));
  for (torch::Tensor* t : mats) {
    void* dst = arena->take(t->nbytes());
    std::memcpy(dst, t->data_ptr(), t->nbytes());
    t->set_data(torch::from_blob(dst, t->sizes(), [arena](void*) {}, t->options()));  // the old storage is freed
  }
  return arena->collapse();
}

bool huge_pages_disabled() {
  const char* env = std::getenv("SADI_NATIVE_HUGE_PAGES");
  return env != nullptr && std::string(env) == "0";
}

}  // namespace sadi::native
