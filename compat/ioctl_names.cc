#include "compat/ioctl_names.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace ward::compat {
namespace {

// Terminal, generic file, socket interface and filesystem requests that
// programs commonly make, with their x86_64 values from the Linux uapi
// headers (asm-generic/ioctls.h, linux/sockios.h, linux/fs.h).
constexpr std::array<std::pair<uint32_t, std::string_view>, 36> kRequests = {{
    {0x5401, "TCGETS"},      {0x5402, "TCSETS"},       {0x5403, "TCSETSW"},
    {0x5404, "TCSETSF"},     {0x5409, "TCSBRK"},       {0x540a, "TCXONC"},
    {0x540b, "TCFLSH"},      {0x540c, "TIOCEXCL"},     {0x540d, "TIOCNXCL"},
    {0x540e, "TIOCSCTTY"},   {0x540f, "TIOCGPGRP"},    {0x5410, "TIOCSPGRP"},
    {0x5411, "TIOCOUTQ"},    {0x5412, "TIOCSTI"},      {0x5413, "TIOCGWINSZ"},
    {0x5414, "TIOCSWINSZ"},  {0x541b, "FIONREAD"},     {0x5421, "FIONBIO"},
    {0x5422, "TIOCNOTTY"},   {0x5429, "TIOCGSID"},     {0x80045430, "TIOCGPTN"},
    {0x40045431, "TIOCSPTLCK"}, {0x5450, "FIONCLEX"},  {0x5451, "FIOCLEX"},
    {0x5452, "FIOASYNC"},    {0x5460, "FIOQSIZE"},     {0x8901, "FIOSETOWN"},
    {0x8903, "FIOGETOWN"},   {0x8912, "SIOCGIFCONF"},  {0x8913, "SIOCGIFFLAGS"},
    {0x8915, "SIOCGIFADDR"}, {0x8921, "SIOCGIFMTU"},   {0x8933, "SIOCGIFINDEX"},
    {0x40049409, "FICLONE"}, {0x80086601, "FS_IOC_GETFLAGS"}, {0x40086602, "FS_IOC_SETFLAGS"},
}};

}  // namespace

std::string_view ioctl_request_name(uint32_t request) {
  for (const auto& [value, name] : kRequests) {
    if (value == request) {
      return name;
    }
  }
  return {};
}

std::string describe_ioctl_request(uint32_t request) {
  std::string_view name = ioctl_request_name(request);
  return name.empty() ? fmt::format("{:#x}", request) : std::string(name);
}

}  // namespace ward::compat
