// The credentials of a task, in the sandbox's own user namespace view.
#pragma once

#include <sys/types.h>

#include <vector>

namespace ward::kernel {

struct Credentials {
  uid_t real_uid = 0;
  uid_t effective_uid = 0;
  uid_t saved_uid = 0;
  uid_t fs_uid = 0;
  gid_t real_gid = 0;
  gid_t effective_gid = 0;
  gid_t saved_gid = 0;
  gid_t fs_gid = 0;
  std::vector<gid_t> supplementary_groups;

  bool is_root() const { return effective_uid == 0; }
};

}  // namespace ward::kernel
