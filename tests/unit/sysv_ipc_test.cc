// The parts of System V IPC that need no task: permission checks, id
// allocation, semaphore operations and the /proc/sysvipc headers.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/sem.h>

#include "sentry/kernel/ipc/ipc_namespace.h"
#include "sentry/kernel/ipc/msg.h"
#include "sentry/kernel/ipc/sem.h"
#include "sentry/kernel/ipc/shm.h"

namespace ward::kernel::ipc {
namespace {

Credentials user(uid_t uid, gid_t gid) {
  Credentials creds;
  creds.real_uid = creds.effective_uid = creds.saved_uid = creds.fs_uid = uid;
  creds.real_gid = creds.effective_gid = creds.saved_gid = creds.fs_gid = gid;
  creds.cap_effective = CapabilitySet();
  creds.cap_permitted = CapabilitySet();
  return creds;
}

IpcPermission permission(uint32_t mode) {
  return IpcPermission{.key = 0, .uid = 1000, .gid = 100, .cuid = 1001, .cgid = 101, .mode = mode};
}

constexpr int kRead = 0444;
constexpr int kWrite = 0222;

TEST(SysvIpcPermission, OwnerBitsForOwnerAndCreator) {
  EXPECT_TRUE(ipc_permitted(permission(0600), user(1000, 5), kRead | kWrite));
  EXPECT_TRUE(ipc_permitted(permission(0600), user(1001, 5), kRead | kWrite));
  EXPECT_FALSE(ipc_permitted(permission(0400), user(1000, 5), kWrite));
}

TEST(SysvIpcPermission, GroupBitsForEitherGroup) {
  EXPECT_TRUE(ipc_permitted(permission(0040), user(2000, 100), kRead));
  EXPECT_TRUE(ipc_permitted(permission(0040), user(2000, 101), kRead));
  EXPECT_FALSE(ipc_permitted(permission(0040), user(2000, 100), kWrite));
  // The owner bits apply to the owner even when the group bits would allow.
  EXPECT_FALSE(ipc_permitted(permission(0060), user(1000, 100), kRead));
}

TEST(SysvIpcPermission, SupplementaryGroupCounts) {
  Credentials creds = user(2000, 5);
  creds.supplementary_groups = {7, 101};
  EXPECT_TRUE(ipc_permitted(permission(0040), creds, kRead));
}

TEST(SysvIpcPermission, OtherBitsAndCapIpcOwner) {
  EXPECT_TRUE(ipc_permitted(permission(0004), user(3000, 3000), kRead));
  EXPECT_FALSE(ipc_permitted(permission(0004), user(3000, 3000), kWrite));
  Credentials owner_override = user(3000, 3000);
  owner_override.cap_effective.add(CAP_IPC_OWNER);
  EXPECT_TRUE(ipc_permitted(permission(0000), owner_override, kWrite));
}

TEST(SysvIpcPermission, OwnerCheckForControl) {
  EXPECT_TRUE(check_ipc_owner(permission(0), user(1000, 0)).ok());
  EXPECT_TRUE(check_ipc_owner(permission(0), user(1001, 0)).ok());
  EXPECT_EQ(check_ipc_owner(permission(0), user(1002, 0)).error().value, EPERM);
}

TEST(SysvIpcPermission, SetRejectsInvalidIds) {
  IpcPermission perm = permission(01600);
  GuestIpcPerm requested{};
  requested.uid = static_cast<uint32_t>(-1);
  EXPECT_EQ(update_ipc_permission(perm, requested).error().value, EINVAL);
  requested.uid = 5;
  requested.gid = 6;
  requested.mode = 07444;
  ASSERT_TRUE(update_ipc_permission(perm, requested).ok());
  EXPECT_EQ(perm.uid, 5u);
  EXPECT_EQ(perm.gid, 6u);
  // Only the permission bits change: SHM_DEST stays.
  EXPECT_EQ(perm.mode, 01444u);
}

TEST(SysvIpcIds, IdsCarryIndexAndSequence) {
  IpcIds<MsgQueue> ids;
  auto first = std::make_shared<MsgQueue>(IpcPermission{});
  auto second = std::make_shared<MsgQueue>(IpcPermission{});
  const int first_id = *ids.add(first, kMsgMaxQueues);
  const int second_id = *ids.add(second, kMsgMaxQueues);
  EXPECT_EQ(first_id, 0);
  EXPECT_EQ(second_id, 1);
  EXPECT_EQ(ids.max_index(), 1);

  // A removed index is not reused before the search wraps.
  ids.remove(*first);
  auto third = std::make_shared<MsgQueue>(IpcPermission{});
  EXPECT_EQ(*ids.add(third, kMsgMaxQueues), 2);
  EXPECT_EQ(ids.find_id(first_id).error().value, EINVAL);
  EXPECT_EQ(ids.find_id(second_id).value(), second);
  EXPECT_EQ(ids.find_index(2).value(), third);
  EXPECT_EQ(ids.find_id(2 + (1 << kIpcIndexBits)).error().value, EINVAL);
}

TEST(SysvIpcIds, LimitGivesEnospc) {
  IpcIds<MsgQueue> ids;
  ASSERT_TRUE(ids.add(std::make_shared<MsgQueue>(IpcPermission{}), 1).ok());
  EXPECT_EQ(ids.add(std::make_shared<MsgQueue>(IpcPermission{}), 1).error().value, ENOSPC);
}

TEST(SysvIpcIds, KeyLookupSkipsPrivate) {
  IpcIds<MsgQueue> ids;
  auto keyed = std::make_shared<MsgQueue>(IpcPermission{.key = 42});
  ASSERT_TRUE(ids.add(keyed, kMsgMaxQueues).ok());
  ASSERT_TRUE(ids.add(std::make_shared<MsgQueue>(IpcPermission{}), kMsgMaxQueues).ok());
  EXPECT_EQ(ids.find_key(42), keyed);
  EXPECT_EQ(ids.find_key(kIpcPrivate), nullptr);
  EXPECT_EQ(ids.find_key(43), nullptr);
}

TEST(SysvSemSet, OperationsAreAllOrNothing) {
  SemSet set(IpcPermission{}, 2);
  size_t blocking = 0;
  const SemOp add[] = {{0, 2, 0}, {1, 1, 0}};
  ASSERT_TRUE(*set.try_operations(add, nullptr, 7, blocking));

  const SemOp too_much[] = {{0, -1, 0}, {1, -2, 0}};
  EXPECT_FALSE(*set.try_operations(too_much, nullptr, 7, blocking));
  EXPECT_EQ(blocking, 1u);
  EXPECT_EQ(set.semaphore(0).value, 2);

  const SemOp nowait[] = {{1, -2, IPC_NOWAIT}};
  EXPECT_EQ(set.try_operations(nowait, nullptr, 7, blocking).error().value, EAGAIN);
  const SemOp overflow[] = {{0, kSemMaxValue, 0}};
  EXPECT_EQ(set.try_operations(overflow, nullptr, 7, blocking).error().value, ERANGE);
  EXPECT_EQ(set.semaphore(0).pid, 7);
}

TEST(SysvSemSet, UndoAppliesAndClamps) {
  auto set = std::make_shared<SemSet>(IpcPermission{}, 1);
  auto undo = std::make_shared<SemUndoList>();
  undo->track(set);
  size_t blocking = 0;
  const SemOp add[] = {{0, 3, SEM_UNDO}};
  ASSERT_TRUE(*set->try_operations(add, undo, 7, blocking));
  EXPECT_EQ(set->semaphore(0).value, 3);

  // Another process takes 2, so undoing +3 would go below 0.
  const SemOp take[] = {{0, -2, 0}};
  ASSERT_TRUE(*set->try_operations(take, nullptr, 8, blocking));
  undo->apply(7);
  EXPECT_EQ(set->semaphore(0).value, 0);
}

TEST(SysvSemSet, SetValueClearsAdjustments) {
  auto set = std::make_shared<SemSet>(IpcPermission{}, 1);
  auto undo = std::make_shared<SemUndoList>();
  undo->track(set);
  size_t blocking = 0;
  const SemOp add[] = {{0, 3, SEM_UNDO}};
  ASSERT_TRUE(*set->try_operations(add, undo, 7, blocking));
  set->set_value(0, 5, 8);
  undo->apply(7);
  EXPECT_EQ(set->semaphore(0).value, 5);
}

TEST(SysvSemSet, AdjustmentRangeIsChecked) {
  auto set = std::make_shared<SemSet>(IpcPermission{}, 1);
  auto undo = std::make_shared<SemUndoList>();
  size_t blocking = 0;
  const SemOp add[] = {{0, kSemMaxValue, SEM_UNDO}};
  ASSERT_TRUE(*set->try_operations(add, undo, 7, blocking));
  const SemOp take[] = {{0, -kSemMaxValue, 0}};
  ASSERT_TRUE(*set->try_operations(take, undo, 7, blocking));

  // The adjustment is -32767 now; two more would pass -32768.
  const SemOp add_two[] = {{0, 2, SEM_UNDO}};
  EXPECT_EQ(set->try_operations(add_two, undo, 7, blocking).error().value, ERANGE);
  EXPECT_EQ(set->semaphore(0).value, 0);
}

TEST(SysvIpcProc, HeadersMatchLinux) {
  IpcNamespace ipc;
  EXPECT_EQ(
      render_proc_sysvipc_sem(ipc),
      "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n");
  EXPECT_EQ(render_proc_sysvipc_msg(ipc),
            "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
            "      stime      rtime      ctime\n");
}

TEST(SysvIpcProc, SemaphoreRowColumns) {
  IpcNamespace ipc;
  auto set = std::make_shared<SemSet>(
      IpcPermission{.key = 0x1234, .uid = 1, .gid = 2, .cuid = 3, .cgid = 4, .mode = 0600}, 3);
  set->change_time = 1700000000;
  ASSERT_TRUE(ipc.sem().add(set, kSemMaxSets).ok());
  const std::string text = render_proc_sysvipc_sem(ipc);
  const std::string row = text.substr(text.find('\n') + 1);
  EXPECT_EQ(
      row,
      "      4660          0   600          3     1     2     3     4          0 1700000000\n");
}

}  // namespace
}  // namespace ward::kernel::ipc
