// Names of common x86_64 ioctl requests, for gap records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ward::compat {

// The name of a common ioctl request ("TIOCSCTTY"), or empty.
std::string_view ioctl_request_name(uint32_t request);

// The name when known, otherwise the request in hex ("0x5480").
std::string describe_ioctl_request(uint32_t request);

}  // namespace ward::compat
