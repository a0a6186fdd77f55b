// Numbers, flags, quoted strings and the other building blocks that the
// --strace decoders share. The constants are the Linux x86_64 UAPI values.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "syscalls/strace_detail.h"

namespace ward::syscalls::strace_detail {
namespace {

constexpr uint64_t kFileTypeMask = 0170000;  // S_IFMT
constexpr uint64_t kPermissionMask = 07777;

constexpr ValueName kFileTypes[] = {
    {0140000, "S_IFSOCK"}, {0120000, "S_IFLNK"}, {0100000, "S_IFREG"}, {060000, "S_IFBLK"},
    {040000, "S_IFDIR"},   {020000, "S_IFCHR"},  {010000, "S_IFIFO"},
};

// Names of signals 0-31. Linux numbers its real-time signals from SIGRTMIN
// (32) to SIGRTMAX (64).
constexpr std::string_view kSignalNames[] = {
    "0",         "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};
constexpr int kSigRtMin = 32;
constexpr int kSigRtMax = 64;

struct Escape {
  char byte;
  std::string_view text;
};

constexpr Escape kEscapes[] = {
    {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\t', "\\t"},
    {'\r', "\\r"}, {'\v', "\\v"},  {'\f', "\\f"},
};

// Appends a byte as it may appear inside double quotes: printable ASCII as
// itself, the C escapes, and octal for every other byte. As in strace, the
// octal escape is as short as the value allows, but takes all three digits
// when the next byte is an octal digit, so that "\1" then "7" reads "\0017".
// `next` is the byte after this one, or -1 at the end.
void append_escaped_byte(std::string& out, unsigned char byte, int next) {
  for (const Escape& escape : kEscapes) {
    if (static_cast<unsigned char>(escape.byte) == byte) {
      out += escape.text;
      return;
    }
  }

  const bool printable = byte >= 0x20 && byte < 0x7f;
  if (printable) {
    out += static_cast<char>(byte);
    return;
  }

  const bool next_is_octal_digit = next >= '0' && next <= '7';
  if (next_is_octal_digit) {
    out += fmt::format("\\{:03o}", byte);
  } else {
    out += fmt::format("\\{:o}", byte);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Number and flag formatting.

int32_t low_int(uint64_t value) { return static_cast<int32_t>(static_cast<uint32_t>(value)); }

uint64_t low_bits(uint64_t value) { return static_cast<uint32_t>(value); }

std::string hex(uint64_t value) { return value == 0 ? "0" : fmt::format("{:#x}", value); }

std::string pointer(uint64_t value) { return value == 0 ? "NULL" : hex(value); }

const ValueName* find_name(std::span<const ValueName> names, int64_t value) {
  for (const ValueName& entry : names) {
    if (entry.value == value) {
      return &entry;
    }
  }
  return nullptr;
}

std::string format_value(std::span<const ValueName> names, int32_t value,
                         std::string_view unknown_prefix) {
  if (const ValueName* match = find_name(names, value)) {
    return std::string(match->name);
  }
  return fmt::format("{} /* {}??? */", hex(static_cast<uint32_t>(value)), unknown_prefix);
}

uint64_t append_flag_names(uint64_t value, std::span<const FlagName> names,
                           std::vector<std::string>& parts) {
  for (const FlagName& flag : names) {
    if ((value & flag.bits) == flag.bits) {
      parts.emplace_back(flag.name);
      value &= ~flag.bits;
    }
  }
  return value;
}

std::string join_flags(const std::vector<std::string>& parts) {
  return fmt::format("{}", fmt::join(parts, "|"));
}

std::string format_flags(uint64_t value, std::span<const FlagName> names,
                         std::string_view zero_name) {
  if (value == 0) {
    return std::string(zero_name);
  }

  std::vector<std::string> parts;
  const uint64_t unknown_bits = append_flag_names(value, names, parts);
  if (unknown_bits != 0) {
    parts.push_back(hex(unknown_bits));
  }
  return join_flags(parts);
}

// ---------------------------------------------------------------------------
// Quoted strings, modes and signals.

std::string quote(std::string_view bytes) {
  std::string out = "\"";
  for (size_t index = 0; index < bytes.size(); ++index) {
    const int next = index + 1 < bytes.size() ? static_cast<unsigned char>(bytes[index + 1]) : -1;
    append_escaped_byte(out, static_cast<unsigned char>(bytes[index]), next);
  }
  out += '"';
  return out;
}

// The kernel reads a mode as umode_t, the low 16 bits.
std::string format_mode(uint64_t value) {
  const uint64_t mode = value & 0xffff;
  const uint64_t permissions = mode & kPermissionMask;
  const uint64_t file_type = mode & kFileTypeMask;

  const ValueName* type_name = find_name(kFileTypes, static_cast<int64_t>(file_type));
  if (file_type != 0 && type_name != nullptr) {
    return fmt::format("{}|{:#03o}", type_name->name, permissions);
  }
  return fmt::format("{:#03o}", mode);
}

std::string format_signal(uint64_t value) {
  const int32_t signal = low_int(value);
  if (signal >= 0 && static_cast<size_t>(signal) < std::size(kSignalNames)) {
    return std::string(kSignalNames[signal]);
  }
  if (signal == kSigRtMin) {
    return "SIGRTMIN";
  }
  if (signal > kSigRtMin && signal <= kSigRtMax) {
    return fmt::format("SIGRT_{}", signal - kSigRtMin);
  }
  return fmt::format("{}", signal);
}

std::string format_buffer(std::string_view bytes) {
  if (bytes.size() > kMaxPrintedStringBytes) {
    return quote(bytes.substr(0, kMaxPrintedStringBytes)) + "...";
  }
  return quote(bytes);
}

}  // namespace ward::syscalls::strace_detail
