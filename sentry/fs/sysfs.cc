#include "sentry/fs/sysfs.h"

#include <linux/magic.h>

#include <string>

#include "sentry/fs/synthetic.h"

namespace ward::vfs {
namespace {

// sysfs reports every attribute file as one page long.
constexpr off_t kSysfsAttributeBytes = 4096;

std::shared_ptr<Inode> host_copy(const std::shared_ptr<Filesystem>& filesystem, std::string path) {
  auto file = std::make_shared<GeneratedFile>(
      filesystem, [path = std::move(path)](const Caller&) { return read_host_file(path.c_str()); },
      0444, kSysfsAttributeBytes);
  file->set_poll_events(kDefaultPollEvents, POLLERR | POLLPRI);
  return file;
}

}  // namespace

std::shared_ptr<Dentry> make_sysfs_root() {
  auto filesystem = std::make_shared<Filesystem>(kSysfsType, SYSFS_MAGIC);

  // The sandbox runs on the host's CPUs, so the host's CPU masks are its
  // own.
  auto cpu = std::make_shared<StaticDirectory>(filesystem, 0755);
  for (const char* name : {"online", "possible", "present"}) {
    cpu->add(name, host_copy(filesystem, std::string("/sys/devices/system/cpu/") + name));
  }
  auto system = std::make_shared<StaticDirectory>(filesystem, 0755);
  system->add("cpu", cpu);
  auto devices = std::make_shared<StaticDirectory>(filesystem, 0755);
  devices->add("system", system);
  auto root = std::make_shared<StaticDirectory>(filesystem, 0555);
  root->add("devices", devices);
  return Dentry::make_root(std::move(root));
}

}  // namespace ward::vfs
