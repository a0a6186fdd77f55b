#include "sentry/fs/sysfs.h"

#include <linux/magic.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "sentry/fs/file_gaps.h"
#include "sentry/fs/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace ward::vfs {
namespace {

// sysfs reports every attribute file as one page long.
constexpr off_t kSysfsAttributeBytes = 4096;

// The topology attributes of a CPU that runtimes and hwloc-style libraries
// read; each is added when the host has it.
constexpr const char* kTopologyFiles[] = {
    "core_id",         "physical_package_id",  "die_id",        "cluster_id",
    "thread_siblings", "thread_siblings_list", "core_siblings", "core_siblings_list",
    "core_cpus",       "core_cpus_list",       "package_cpus",  "package_cpus_list",
    "die_cpus",        "die_cpus_list",        "cluster_cpus",  "cluster_cpus_list",
};

constexpr const char* kNodeFiles[] = {"cpulist", "cpumap", "distance", "meminfo"};

constexpr const char* kHugepageFiles[] = {"enabled", "defrag", "hpage_pmd_size"};

bool host_has(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::shared_ptr<Inode> host_copy(const std::shared_ptr<Filesystem>& filesystem, std::string path) {
  auto file = std::make_shared<GeneratedFile>(
      filesystem, [path = std::move(path)](const Caller&) { return read_host_file(path.c_str()); },
      0444, kSysfsAttributeBytes);
  file->set_poll_events(kDefaultPollEvents, POLLERR | POLLPRI);
  file->set_write_needs_mode_bit();
  return file;
}

std::shared_ptr<Inode> constant_attribute(const std::shared_ptr<Filesystem>& filesystem,
                                          mode_t permissions, std::string text) {
  auto file = std::make_shared<GeneratedFile>(
      filesystem, [text = std::move(text)](const Caller&) -> Result<std::string> { return text; },
      permissions, kSysfsAttributeBytes);
  file->set_poll_events(kDefaultPollEvents, POLLERR | POLLPRI);
  file->set_write_needs_mode_bit();
  return file;
}

std::shared_ptr<KernelFileDirectory> directory(const std::shared_ptr<Filesystem>& filesystem,
                                               std::string path) {
  return std::make_shared<KernelFileDirectory>(filesystem, 0755, std::move(path));
}

// Adds a copy of each of `names` under `host_directory` that the host has.
template <typename Names>
void add_host_copies(const std::shared_ptr<Filesystem>& filesystem, KernelFileDirectory& to,
                     const std::string& host_directory, const Names& names) {
  for (const char* name : names) {
    const std::string path = host_directory + "/" + name;
    if (host_has(path)) {
      to.add(name, host_copy(filesystem, path));
    }
  }
}

std::shared_ptr<Inode> make_cpu_directory(const std::shared_ptr<Filesystem>& filesystem) {
  const std::string host_path = "/sys/devices/system/cpu";
  auto cpu = directory(filesystem, host_path);
  for (const char* name : {"online", "possible", "present"}) {
    cpu->add(name, host_copy(filesystem, host_path + "/" + name));
  }
  // glibc counts the cpuN directories for sysconf(_SC_NPROCESSORS_CONF).
  const std::vector<int> present =
      parse_cpu_list(read_host_file((host_path + "/present").c_str()).value_or(""));
  for (int number : present) {
    const std::string name = "cpu" + std::to_string(number);
    auto one = directory(filesystem, host_path + "/" + name);
    auto topology = directory(filesystem, host_path + "/" + name + "/topology");
    add_host_copies(filesystem, *topology, host_path + "/" + name + "/topology", kTopologyFiles);
    one->add("topology", topology);
    // CPU 0 usually cannot go offline and has no online file.
    if (host_has(host_path + "/" + name + "/online")) {
      one->add("online", host_copy(filesystem, host_path + "/" + name + "/online"));
    }
    cpu->add(name, one);
  }
  return cpu;
}

std::shared_ptr<Inode> make_node_directory(const std::shared_ptr<Filesystem>& filesystem) {
  const std::string host_path = "/sys/devices/system/node";
  auto node = directory(filesystem, host_path);
  add_host_copies(filesystem, *node, host_path,
                  std::initializer_list<const char*>{"online", "possible", "has_cpu", "has_memory",
                                                     "has_normal_memory"});
  const std::vector<int> online =
      parse_cpu_list(read_host_file((host_path + "/online").c_str()).value_or(""));
  for (int number : online) {
    const std::string name = "node" + std::to_string(number);
    auto one = directory(filesystem, host_path + "/" + name);
    add_host_copies(filesystem, *one, host_path + "/" + name, kNodeFiles);
    node->add(name, one);
  }
  return node;
}

// The sandbox's cgroup v2 root. The limits read "max" because ward sets
// none. cgroup.controllers lists the controllers whose files are here.
std::shared_ptr<Inode> make_cgroup_directory(const std::shared_ptr<Filesystem>& filesystem) {
  auto cgroup = directory(filesystem, "/sys/fs/cgroup");
  cgroup->add("cgroup.controllers", constant_attribute(filesystem, 0444, "cpu memory\n"));
  cgroup->add("cpu.max", constant_attribute(filesystem, 0644, "max 100000\n"));
  cgroup->add("memory.max", constant_attribute(filesystem, 0644, "max\n"));
  // Every process of the sandbox is in this cgroup.
  auto procs = std::make_shared<GeneratedFile>(
      filesystem,
      [](const Caller& caller) -> Result<std::string> {
        std::string text;
        if (caller.task == nullptr) {
          return text;
        }
        for (kernel::ThreadGroup* group : caller.task->kernel().thread_groups()) {
          if (!group->tasks().empty()) {
            text += std::to_string(group->tgid()) + "\n";
          }
        }
        return text;
      },
      0644);
  cgroup->add("cgroup.procs", procs);
  return cgroup;
}

}  // namespace

std::vector<int> parse_cpu_list(std::string_view text) {
  std::vector<int> numbers;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view range = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);

    const size_t dash = range.find('-');
    int first = 0;
    int last = 0;
    const std::string_view first_text = range.substr(0, dash);
    const std::string_view last_text =
        dash == std::string_view::npos ? first_text : range.substr(dash + 1);
    const auto first_parse =
        std::from_chars(first_text.data(), first_text.data() + first_text.size(), first);
    const auto last_parse =
        std::from_chars(last_text.data(), last_text.data() + last_text.size(), last);
    if (first_parse.ec != std::errc() || first_parse.ptr != first_text.data() + first_text.size() ||
        last_parse.ec != std::errc() || last_parse.ptr != last_text.data() + last_text.size() ||
        first < 0 || last < first) {
      return {};
    }
    for (int number = first; number <= last; ++number) {
      numbers.push_back(number);
    }
  }
  return numbers;
}

std::shared_ptr<Dentry> make_sysfs_root() {
  auto filesystem = std::make_shared<Filesystem>(kSysfsType, SYSFS_MAGIC);

  auto system = directory(filesystem, "/sys/devices/system");
  system->add("cpu", make_cpu_directory(filesystem));
  system->add("node", make_node_directory(filesystem));
  auto devices = directory(filesystem, "/sys/devices");
  devices->add("system", system);

  auto hugepages = directory(filesystem, "/sys/kernel/mm/transparent_hugepage");
  add_host_copies(filesystem, *hugepages, "/sys/kernel/mm/transparent_hugepage", kHugepageFiles);
  auto memory = directory(filesystem, "/sys/kernel/mm");
  memory->add("transparent_hugepage", hugepages);
  auto kernel = directory(filesystem, "/sys/kernel");
  kernel->add("mm", memory);

  auto fs = directory(filesystem, "/sys/fs");
  fs->add("cgroup", make_cgroup_directory(filesystem));

  auto root = std::make_shared<KernelFileDirectory>(filesystem, 0555, "/sys");
  root->add("devices", devices);
  root->add("kernel", kernel);
  root->add("fs", fs);
  return Dentry::make_root(std::move(root));
}

}  // namespace ward::vfs
