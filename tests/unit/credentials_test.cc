// The credential rules of sentry/kernel/credentials.h, for cases the
// conformance programs cannot reach as root: securebits, execve's
// capability rules and no_new_privs.
#include "sentry/kernel/credentials.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace ward::kernel {
namespace {

Credentials user(uid_t uid) {
  Credentials creds;
  creds.real_uid = creds.effective_uid = creds.saved_uid = creds.fs_uid = uid;
  creds.real_gid = creds.effective_gid = creds.saved_gid = creds.fs_gid = uid;
  creds.cap_permitted = {};
  creds.cap_effective = {};
  return creds;
}

TEST(CredentialsTest, NoSetuidFixupKeepsCapabilities) {
  Credentials root;
  root.securebits = kSecureNoSetuidFixup;
  Credentials dropped = set_uid(root, 1000).value();
  EXPECT_EQ(dropped.cap_permitted, CapabilitySet::all());
  EXPECT_EQ(dropped.cap_effective, CapabilitySet::all());
}

TEST(CredentialsTest, UnprivilegedSetresuidSwapsOwnIds) {
  Credentials creds = user(1000);
  creds.saved_uid = 2000;
  Credentials swapped = set_resuid(creds, 2000, 1000, 1000).value();
  EXPECT_EQ(swapped.real_uid, 2000u);
  EXPECT_EQ(swapped.saved_uid, 1000u);
  EXPECT_EQ(set_resuid(creds, 3000, -1, -1).error().value, EPERM);
}

TEST(CredentialsTest, SetfsuidWithoutPermissionChangesNothing) {
  Credentials creds = user(1000);
  EXPECT_EQ(set_fsuid(creds, 0).fs_uid, 1000u);
}

TEST(CredentialsTest, CapsetRejectsGrowingPermittedSet) {
  Credentials creds = user(1000);
  creds.cap_permitted.add(CAP_KILL);
  CapabilitySet grown;
  grown.add(CAP_KILL);
  grown.add(CAP_CHOWN);
  EXPECT_EQ(set_capabilities(creds, {}, grown, {}).error().value, EPERM);
}

TEST(CredentialsTest, CapsetDropsAmbientOutsidePermitted) {
  Credentials creds = user(1000);
  CapabilitySet kill;
  kill.add(CAP_KILL);
  creds.cap_permitted = creds.cap_inheritable = creds.cap_ambient = kill;
  Credentials now = set_capabilities(creds, {}, {}, kill).value();
  EXPECT_TRUE(now.cap_ambient.empty());
}

TEST(CredentialsTest, ExecAsRootGetsBoundingSet) {
  Credentials root;
  root.cap_effective = {};
  root.cap_bset.remove(CAP_SYS_ADMIN);
  ExecCredentials exec = credentials_for_exec(root, false);
  EXPECT_FALSE(exec.creds.cap_permitted.has(CAP_SYS_ADMIN));
  EXPECT_TRUE(exec.creds.cap_effective.has(CAP_KILL));
  EXPECT_FALSE(exec.secure);
}

TEST(CredentialsTest, ExecAsUserKeepsOnlyAmbient) {
  Credentials creds = user(1000);
  CapabilitySet bind;
  bind.add(CAP_NET_BIND_SERVICE);
  creds.cap_permitted = creds.cap_inheritable = creds.cap_ambient = bind;
  creds.cap_permitted.add(CAP_KILL);
  ExecCredentials exec = credentials_for_exec(creds, false);
  EXPECT_EQ(exec.creds.cap_permitted, bind);
  EXPECT_EQ(exec.creds.cap_effective, bind);
  EXPECT_FALSE(exec.secure);
}

TEST(CredentialsTest, ExecWithDifferentEuidIsSecure) {
  Credentials creds = user(1000);
  creds.effective_uid = 2000;
  creds.cap_ambient.add(CAP_KILL);
  ExecCredentials exec = credentials_for_exec(creds, false);
  EXPECT_TRUE(exec.secure);
  EXPECT_TRUE(exec.creds.cap_ambient.empty());
  EXPECT_EQ(exec.creds.saved_uid, 2000u);
}

TEST(CredentialsTest, ExecWithNoNewPrivsUsesRealIds) {
  Credentials creds = user(1000);
  creds.effective_uid = 2000;
  ExecCredentials exec = credentials_for_exec(creds, true);
  EXPECT_EQ(exec.creds.effective_uid, 1000u);
  EXPECT_EQ(exec.creds.saved_uid, 1000u);
}

TEST(CredentialsTest, ExecClearsKeepCaps) {
  Credentials root;
  root.securebits = kSecureKeepCaps | kSecureNoRoot;
  ExecCredentials exec = credentials_for_exec(root, false);
  EXPECT_EQ(exec.creds.securebits, kSecureNoRoot);
  EXPECT_TRUE(exec.creds.cap_permitted.empty());
}

TEST(CredentialsTest, PrivilegeResetOnEuidOrNewCapability) {
  Credentials creds = user(1000);
  Credentials same = creds;
  same.saved_uid = 5;
  EXPECT_FALSE(credentials_change_resets_privileges(creds, same));
  Credentials other_euid = creds;
  other_euid.effective_uid = 5;
  EXPECT_TRUE(credentials_change_resets_privileges(creds, other_euid));
  Credentials gained = creds;
  gained.cap_permitted.add(CAP_KILL);
  EXPECT_TRUE(credentials_change_resets_privileges(creds, gained));
}

}  // namespace
}  // namespace ward::kernel
