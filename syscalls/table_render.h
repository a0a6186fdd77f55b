// Renderings of the syscall table for `ward syscalls` and docs/syscalls.md:
// one line or record per row, with the number, the name, the support level
// and the note that lists what is missing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "syscalls/table.h"

namespace ward::syscalls {

enum class TableFormat { kMarkdown, kJson, kCsv };

// The format called `name` ("markdown", "json", "csv"), or nullopt.
std::optional<TableFormat> parse_table_format(std::string_view name);

// The whole table in `format`. The Markdown form is docs/syscalls.md.
std::string render_syscall_table(TableFormat format);

// The support level as the renderings name it: "full", "partial", "none".
std::string_view support_name(Support support);

}  // namespace ward::syscalls
