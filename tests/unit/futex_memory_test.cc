// What shared futex keys rely on, against a real stub: shared anonymous
// memory keeps one identity and matching offsets across splits, forks and
// neighbours, find_vma finds the right VMA, and atomic_or_u32 sets bits.
#include <sys/mman.h>

#include <cstdint>

#include <gtest/gtest.h>

#include "platform/ptrace/ptrace_platform.h"
#include "sentry/mm/memory_manager.h"

namespace ward::mm {
namespace {

constexpr GuestAddr kBase(0x10000000);
constexpr int kReadWrite = PROT_READ | PROT_WRITE;

class FutexMemoryTest : public testing::Test {
 protected:
  void SetUp() override {
    auto platform = platform::PtracePlatform::create();
    ASSERT_TRUE(platform.ok());
    platform_ = std::move(*platform);
    auto mm = MemoryManager::create(*platform_);
    ASSERT_TRUE(mm.ok());
    mm_ = std::move(*mm);
    mm_->set_mmap_base(GuestAddr(0x7f0000000000));
  }

  Result<GuestAddr> map_fixed(GuestAddr addr, uint64_t length, int flags) {
    return mm_->map(MapRequest{
        .hint = addr, .length = length, .prot = kReadWrite, .flags = flags, .fixed = true});
  }

  std::unique_ptr<platform::PtracePlatform> platform_;
  std::shared_ptr<MemoryManager> mm_;
};

TEST_F(FutexMemoryTest, SplitKeepsSharedIdentity) {
  ASSERT_TRUE(map_fixed(kBase, 3 * kPageSize, MAP_SHARED | MAP_ANONYMOUS).ok());
  ASSERT_TRUE(mm_->protect(kBase + kPageSize, kPageSize, PROT_READ).ok());

  auto vmas = mm_->vmas();
  ASSERT_EQ(vmas.size(), 3u);
  ASSERT_NE(vmas[0].shared_anonymous, nullptr);
  EXPECT_EQ(vmas[1].shared_anonymous, vmas[0].shared_anonymous);
  EXPECT_EQ(vmas[2].shared_anonymous, vmas[0].shared_anonymous);
  EXPECT_EQ(vmas[0].file_offset, 0u);
  EXPECT_EQ(vmas[1].file_offset, kPageSize);
  EXPECT_EQ(vmas[2].file_offset, 2 * kPageSize);
}

TEST_F(FutexMemoryTest, SeparateMappingsStaySeparate) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize, MAP_SHARED | MAP_ANONYMOUS).ok());
  ASSERT_TRUE(map_fixed(kBase + kPageSize, kPageSize, MAP_SHARED | MAP_ANONYMOUS).ok());

  auto vmas = mm_->vmas();
  ASSERT_EQ(vmas.size(), 2u);
  EXPECT_NE(vmas[0].shared_anonymous, vmas[1].shared_anonymous);
}

TEST_F(FutexMemoryTest, PrivateMemoryHasNoSharedIdentity) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize, MAP_PRIVATE | MAP_ANONYMOUS).ok());
  const Vma* vma = mm_->find_vma(kBase);
  ASSERT_NE(vma, nullptr);
  EXPECT_EQ(vma->shared_anonymous, nullptr);
}

TEST_F(FutexMemoryTest, ForkSharesIdentity) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize, MAP_SHARED | MAP_ANONYMOUS).ok());
  auto child = mm_->fork();
  ASSERT_TRUE(child.ok());

  const Vma* parent_vma = mm_->find_vma(kBase);
  const Vma* child_vma = (*child)->find_vma(kBase);
  ASSERT_NE(parent_vma, nullptr);
  ASSERT_NE(child_vma, nullptr);
  EXPECT_EQ(child_vma->shared_anonymous, parent_vma->shared_anonymous);
}

TEST_F(FutexMemoryTest, FindVmaBounds) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize, MAP_PRIVATE | MAP_ANONYMOUS).ok());
  EXPECT_NE(mm_->find_vma(kBase), nullptr);
  EXPECT_NE(mm_->find_vma(kBase + kPageSize - 1), nullptr);
  EXPECT_EQ(mm_->find_vma(kBase + kPageSize), nullptr);
  EXPECT_EQ(mm_->find_vma(kBase - 1), nullptr);
}

TEST_F(FutexMemoryTest, AtomicOrSetsBits) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize, MAP_PRIVATE | MAP_ANONYMOUS).ok());
  GuestAddr word = kBase + 8;
  uint32_t value = 5;
  ASSERT_TRUE(mm_->copy_out(word, std::as_bytes(std::span(&value, 1))).ok());

  ASSERT_TRUE(mm_->address_space().atomic_or_u32(word, 0x80000002).ok());
  ASSERT_TRUE(mm_->copy_in(word, std::as_writable_bytes(std::span(&value, 1))).ok());
  EXPECT_EQ(value, 0x80000007u);
}

TEST_F(FutexMemoryTest, AtomicOrOfUnmappedWordIsEfault) {
  auto result = mm_->address_space().atomic_or_u32(kBase, 1);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().value, EFAULT);
}

}  // namespace
}  // namespace ward::mm
