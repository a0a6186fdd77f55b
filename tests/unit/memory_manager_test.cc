// The memory manager against a real stub: Linux's rules for mmap, munmap,
// mprotect, mremap, brk and madvise, the VMA list, and the guest memory
// copy helpers.
#include "sentry/mm/memory_manager.h"

#include <sys/mman.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "platform/ptrace/ptrace_platform.h"

namespace ward::mm {
namespace {

constexpr GuestAddr kBase(0x10000000);
constexpr int kReadWrite = PROT_READ | PROT_WRITE;
constexpr int kPrivateAnonymous = MAP_PRIVATE | MAP_ANONYMOUS;

class MemoryManagerTest : public testing::Test {
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

  Result<GuestAddr> map_fixed(GuestAddr addr, uint64_t length, int prot = kReadWrite) {
    return mm_->map(MapRequest{.hint = addr,
                               .length = length,
                               .prot = prot,
                               .flags = kPrivateAnonymous,
                               .fixed = true});
  }

  size_t vma_count() { return mm_->vmas().size(); }

  std::unique_ptr<platform::PtracePlatform> platform_;
  std::shared_ptr<MemoryManager> mm_;
};

TEST_F(MemoryManagerTest, StringEndingAtUnmappedPageIsRead) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  GuestAddr last = kBase + kPageSize - 4;
  const char text[] = "abc";  // with its NUL, exactly the last four bytes
  ASSERT_TRUE(mm_->copy_out(last, std::as_bytes(std::span(text, 4))).ok());

  auto read = mm_->copy_in_string(last, 4096);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "abc");
}

TEST_F(MemoryManagerTest, StringRunningIntoUnmappedPageIsEfault) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  GuestAddr last = kBase + kPageSize - 3;
  const char text[] = "abc";  // no NUL before the page ends
  ASSERT_TRUE(mm_->copy_out(last, std::as_bytes(std::span(text, 3))).ok());

  auto read = mm_->copy_in_string(last, 4096);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().value, EFAULT);
}

TEST_F(MemoryManagerTest, StringWithoutNulInLimitIsEnametoolong) {
  ASSERT_TRUE(map_fixed(kBase, 2 * kPageSize).ok());
  std::string filler(kPageSize + 100, 'x');
  ASSERT_TRUE(mm_->copy_out(kBase, std::as_bytes(std::span(filler))).ok());

  auto read = mm_->copy_in_string(kBase, kPageSize);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().value, ENAMETOOLONG);
}

TEST_F(MemoryManagerTest, CopyAcrossUnmappedPageIsEfault) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  std::byte buffer[64];
  auto copied = mm_->copy_in(kBase + kPageSize - 32, buffer);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().value, EFAULT);
}

TEST_F(MemoryManagerTest, FixedNoreplaceOverMappingIsEexist) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  auto mapped = mm_->map(MapRequest{.hint = kBase,
                                    .length = kPageSize,
                                    .prot = kReadWrite,
                                    .flags = kPrivateAnonymous,
                                    .fixed_noreplace = true});
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.error().value, EEXIST);
}

TEST_F(MemoryManagerTest, FixedBelowMmapMinAddrIsEperm) {
  auto mapped = map_fixed(GuestAddr(0x1000), kPageSize);
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.error().value, EPERM);
}

TEST_F(MemoryManagerTest, FixedUnalignedIsEinval) {
  auto mapped = map_fixed(kBase + 1, kPageSize);
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.error().value, EINVAL);
}

TEST_F(MemoryManagerTest, FixedPastAddressSpaceIsEnomem) {
  auto mapped = map_fixed(mm_->max_address(), kPageSize);
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.error().value, ENOMEM);
}

TEST_F(MemoryManagerTest, HintIsUsedWhenFree) {
  auto mapped = mm_->map(MapRequest{.hint = kBase, .length = kPageSize, .prot = kReadWrite,
                                    .flags = kPrivateAnonymous});
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(*mapped, kBase);

  // Taken now: the next request with the same hint goes elsewhere.
  auto second = mm_->map(MapRequest{.hint = kBase, .length = kPageSize, .prot = kReadWrite,
                                    .flags = kPrivateAnonymous});
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, kBase);
}

TEST_F(MemoryManagerTest, MappingsGrowDownFromMmapBase) {
  auto first = mm_->map(MapRequest{.length = kPageSize, .prot = kReadWrite,
                                   .flags = kPrivateAnonymous});
  auto second = mm_->map(MapRequest{.length = kPageSize, .prot = kReadWrite,
                                    .flags = kPrivateAnonymous});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, mm_->mmap_base() - kPageSize);
  EXPECT_EQ(*second, *first - kPageSize);
  // Same backing and adjacent: one VMA.
  EXPECT_EQ(vma_count(), 1u);
}

TEST_F(MemoryManagerTest, UnmapMiddleSplitsTheVma) {
  ASSERT_TRUE(map_fixed(kBase, 3 * kPageSize).ok());
  ASSERT_TRUE(mm_->unmap(kBase + kPageSize, kPageSize).ok());
  auto vmas = mm_->vmas();
  ASSERT_EQ(vmas.size(), 2u);
  EXPECT_EQ(vmas[0].end, kBase + kPageSize);
  EXPECT_EQ(vmas[1].start, kBase + 2 * kPageSize);

  std::byte probe[1];
  EXPECT_FALSE(mm_->copy_in(kBase + kPageSize, probe).ok());
  EXPECT_TRUE(mm_->copy_in(kBase + 2 * kPageSize, probe).ok());
}

TEST_F(MemoryManagerTest, UnmapBadArgumentsAreEinval) {
  EXPECT_EQ(mm_->unmap(kBase + 1, kPageSize).error().value, EINVAL);
  EXPECT_EQ(mm_->unmap(kBase, 0).error().value, EINVAL);
  EXPECT_EQ(mm_->unmap(mm_->max_address(), kPageSize).error().value, EINVAL);
}

TEST_F(MemoryManagerTest, UnmapOfNothingSucceeds) { EXPECT_TRUE(mm_->unmap(kBase, kPageSize).ok()); }

TEST_F(MemoryManagerTest, ProtectSplitsAndTakesEffect) {
  ASSERT_TRUE(map_fixed(kBase, 2 * kPageSize).ok());
  ASSERT_TRUE(mm_->protect(kBase, kPageSize, PROT_READ).ok());
  auto vmas = mm_->vmas();
  ASSERT_EQ(vmas.size(), 2u);
  EXPECT_EQ(vmas[0].prot, PROT_READ);
  EXPECT_EQ(vmas[1].prot, kReadWrite);

  std::byte value[1] = {std::byte{1}};
  EXPECT_FALSE(mm_->copy_out(kBase, value).ok());
  EXPECT_TRUE(mm_->copy_out(kBase + kPageSize, value).ok());

  // Back to read-write: the two VMAs merge again.
  ASSERT_TRUE(mm_->protect(kBase, kPageSize, kReadWrite).ok());
  EXPECT_EQ(vma_count(), 1u);
}

TEST_F(MemoryManagerTest, ProtectErrors) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  EXPECT_EQ(mm_->protect(kBase + 1, kPageSize, PROT_READ).error().value, EINVAL);
  EXPECT_EQ(mm_->protect(kBase, kPageSize, 0x1000).error().value, EINVAL);
  EXPECT_EQ(mm_->protect(kBase, 2 * kPageSize, PROT_READ).error().value, ENOMEM);
  EXPECT_TRUE(mm_->protect(kBase, 0, PROT_READ).ok());
}

TEST_F(MemoryManagerTest, RemapGrowsInPlaceWhenFree) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  auto grown = mm_->remap(kBase, kPageSize, 2 * kPageSize, 0, GuestAddr(0));
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ(*grown, kBase);
  EXPECT_EQ(vma_count(), 1u);
  EXPECT_EQ(mm_->vmas()[0].end, kBase + 2 * kPageSize);
}

TEST_F(MemoryManagerTest, RemapMovesAndKeepsContents) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  ASSERT_TRUE(map_fixed(kBase + kPageSize, kPageSize, PROT_READ).ok());  // a blocker
  const char text[] = "kept across the move";
  ASSERT_TRUE(mm_->copy_out(kBase, std::as_bytes(std::span(text))).ok());

  EXPECT_EQ(mm_->remap(kBase, kPageSize, 2 * kPageSize, 0, GuestAddr(0)).error().value, ENOMEM);
  auto moved = mm_->remap(kBase, kPageSize, 2 * kPageSize, MREMAP_MAYMOVE, GuestAddr(0));
  ASSERT_TRUE(moved.ok());
  EXPECT_NE(*moved, kBase);

  char copy[sizeof(text)] = {};
  ASSERT_TRUE(mm_->copy_in(*moved, std::as_writable_bytes(std::span(copy))).ok());
  EXPECT_STREQ(copy, text);
  std::byte probe[1];
  EXPECT_FALSE(mm_->copy_in(kBase, probe).ok());
}

TEST_F(MemoryManagerTest, RemapShrinks) {
  ASSERT_TRUE(map_fixed(kBase, 2 * kPageSize).ok());
  auto shrunk = mm_->remap(kBase, 2 * kPageSize, kPageSize, 0, GuestAddr(0));
  ASSERT_TRUE(shrunk.ok());
  EXPECT_EQ(mm_->vmas()[0].end, kBase + kPageSize);
}

TEST_F(MemoryManagerTest, RemapErrors) {
  ASSERT_TRUE(map_fixed(kBase, 2 * kPageSize).ok());
  // Not mapped, or crossing the end of the VMA.
  EXPECT_EQ(mm_->remap(kBase + 4 * kPageSize, kPageSize, kPageSize, 0, GuestAddr(0)).error().value,
            EFAULT);
  EXPECT_EQ(mm_->remap(kBase, 3 * kPageSize, kPageSize, 0, GuestAddr(0)).error().value, EFAULT);
  // MREMAP_FIXED without MREMAP_MAYMOVE, overlapping ranges, unknown flags.
  EXPECT_EQ(mm_->remap(kBase, kPageSize, kPageSize, MREMAP_FIXED, kBase + 8 * kPageSize)
                .error()
                .value,
            EINVAL);
  EXPECT_EQ(mm_->remap(kBase, 2 * kPageSize, 2 * kPageSize, MREMAP_MAYMOVE | MREMAP_FIXED,
                       kBase + kPageSize)
                .error()
                .value,
            EINVAL);
  EXPECT_EQ(mm_->remap(kBase, kPageSize, kPageSize, 0x100, GuestAddr(0)).error().value, EINVAL);
  EXPECT_EQ(mm_->remap(kBase + 1, kPageSize, kPageSize, 0, GuestAddr(0)).error().value, EINVAL);
  EXPECT_EQ(mm_->remap(kBase, kPageSize, 0, 0, GuestAddr(0)).error().value, EINVAL);
}

TEST_F(MemoryManagerTest, BrkGrowsAndShrinks) {
  GuestAddr start = kBase + 0x1234;
  mm_->init_brk(start);
  EXPECT_EQ(mm_->set_brk(GuestAddr(0)), start);  // below the start: unchanged

  GuestAddr grown = mm_->set_brk(start + 3 * kPageSize);
  EXPECT_EQ(grown, start + 3 * kPageSize);
  std::byte value[1] = {std::byte{7}};
  EXPECT_TRUE(mm_->copy_out(start + 2 * kPageSize, value).ok());
  EXPECT_EQ(mm_->vmas().back().name, "[heap]");

  GuestAddr shrunk = mm_->set_brk(start + 10);
  EXPECT_EQ(shrunk, start + 10);
  EXPECT_FALSE(mm_->copy_out(start + 2 * kPageSize, value).ok());
}

TEST_F(MemoryManagerTest, BrkStopsAtAMapping) {
  mm_->init_brk(kBase);
  ASSERT_TRUE(map_fixed(kBase + 2 * kPageSize, kPageSize).ok());
  EXPECT_EQ(mm_->set_brk(kBase + 4 * kPageSize), kBase);
}

TEST_F(MemoryManagerTest, AdviseErrors) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  EXPECT_EQ(mm_->advise(kBase, kPageSize, 12345).error().value, EINVAL);
  EXPECT_EQ(mm_->advise(kBase + 1, kPageSize, MADV_NORMAL).error().value, EINVAL);
  EXPECT_EQ(mm_->advise(kBase, 2 * kPageSize, MADV_NORMAL).error().value, ENOMEM);
  EXPECT_EQ(mm_->advise(kBase, kPageSize, MADV_HWPOISON).error().value, EPERM);
}

TEST_F(MemoryManagerTest, DontneedZeroesPrivateMemory) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  uint32_t value = 0xdeadbeef;
  ASSERT_TRUE(mm_->copy_out(kBase, std::as_bytes(std::span(&value, 1))).ok());
  ASSERT_TRUE(mm_->advise(kBase, kPageSize, MADV_DONTNEED).ok());
  uint32_t after = 1;
  ASSERT_TRUE(mm_->copy_in(kBase, std::as_writable_bytes(std::span(&after, 1))).ok());
  EXPECT_EQ(after, 0u);
}

TEST_F(MemoryManagerTest, ForkLeavesOutDontforkRanges) {
  ASSERT_TRUE(map_fixed(kBase, 2 * kPageSize).ok());
  ASSERT_TRUE(mm_->advise(kBase + kPageSize, kPageSize, MADV_DONTFORK).ok());
  auto child = mm_->fork();
  ASSERT_TRUE(child.ok());
  auto vmas = (*child)->vmas();
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].end, kBase + kPageSize);

  std::byte probe[1];
  EXPECT_TRUE((*child)->copy_in(kBase, probe).ok());
  EXPECT_FALSE((*child)->copy_in(kBase + kPageSize, probe).ok());
}

TEST_F(MemoryManagerTest, SyncAndResidencyNeedMappedRanges) {
  ASSERT_TRUE(map_fixed(kBase, kPageSize).ok());
  EXPECT_TRUE(mm_->sync(kBase, kPageSize, MS_SYNC).ok());
  EXPECT_EQ(mm_->sync(kBase, kPageSize, MS_SYNC | MS_ASYNC).error().value, EINVAL);
  EXPECT_EQ(mm_->sync(kBase, 2 * kPageSize, MS_SYNC).error().value, ENOMEM);
  EXPECT_EQ(mm_->residency(kBase, 2 * kPageSize, kBase).error().value, ENOMEM);
  EXPECT_TRUE(mm_->residency(kBase, kPageSize, kBase + 100).ok());
}

}  // namespace
}  // namespace ward::mm
