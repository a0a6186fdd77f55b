// Handlers of the file syscalls: open and close, reads and writes, seeking,
// stat, directories and the working directory, descriptors, pipes, the
// calls that change the filesystem, and extended attributes. Each has the
// table's Handler signature.
#pragma once

#include <cstdint>
#include <optional>

#include "ward/result.h"

namespace ward::kernel {
class Task;
}

namespace ward::vfs {
class FileDescription;
}

namespace ward::syscalls {

struct SyscallArgs;

// sys_file.cc: opening and closing.
Result<int64_t> sys_open(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_openat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_openat2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_creat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_close(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_close_range(kernel::Task& task, const SyscallArgs& args);

// sys_file_rw.cc: reading, writing and seeking.
Result<int64_t> sys_read(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_write(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pread64(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pwrite64(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_readv(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_writev(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_preadv(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pwritev(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_preadv2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pwritev2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_lseek(kernel::Task& task, const SyscallArgs& args);

// sys_stat.cc: file status and access checks.
Result<int64_t> sys_stat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fstat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_lstat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_newfstatat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_statx(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_statfs(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fstatfs(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_readlink(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_readlinkat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_access(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_faccessat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_faccessat2(kernel::Task& task, const SyscallArgs& args);

// sys_dir.cc: directory listings and the working directory.
Result<int64_t> sys_getdents(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getdents64(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_getcwd(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_chdir(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fchdir(kernel::Task& task, const SyscallArgs& args);

// sys_fd.cc: descriptor operations.
Result<int64_t> sys_dup(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_dup2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_dup3(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fcntl(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_flock(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_ioctl(kernel::Task& task, const SyscallArgs& args);

// sys_memfd.cc: memfd_create and file seals.
Result<int64_t> sys_memfd_create(kernel::Task& task, const SyscallArgs& args);
// fcntl's F_ADD_SEALS and F_GET_SEALS on `file`, or nullopt for any other
// command.
std::optional<Result<int64_t>> fcntl_seals(vfs::FileDescription& file, uint32_t command,
                                           uint64_t argument);

// sys_pipe.cc
Result<int64_t> sys_pipe(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_pipe2(kernel::Task& task, const SyscallArgs& args);

// sys_file_mutate.cc: calls that change the filesystem.
Result<int64_t> sys_mkdir(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mkdirat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mknod(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_mknodat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rmdir(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_unlink(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_unlinkat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_rename(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_renameat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_renameat2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_link(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_linkat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_symlink(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_symlinkat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_chmod(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fchmod(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fchmodat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fchmodat2(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_chown(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fchown(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_lchown(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fchownat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_truncate(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_ftruncate(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_utimensat(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_utime(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_utimes(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_futimesat(kernel::Task& task, const SyscallArgs& args);

// sys_xattr.cc: extended attributes.
Result<int64_t> sys_getxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_lgetxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fgetxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_listxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_llistxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_flistxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_setxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_lsetxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fsetxattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_removexattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_lremovexattr(kernel::Task& task, const SyscallArgs& args);
Result<int64_t> sys_fremovexattr(kernel::Task& task, const SyscallArgs& args);

}  // namespace ward::syscalls
