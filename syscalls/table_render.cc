#include "syscalls/table_render.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "syscalls/table.h"

namespace ward::syscalls {
namespace {

// The schema version of the JSON rendering; raised when a field changes
// meaning or disappears.
constexpr int kJsonSchemaVersion = 1;

// A Markdown table cell: a pipe would end the cell and a newline the row.
std::string markdown_cell(std::string_view text) {
  std::string cell;
  cell.reserve(text.size());
  for (char c : text) {
    if (c == '|') {
      cell += "\\|";
    } else if (c == '\n') {
      cell += ' ';
    } else {
      cell += c;
    }
  }
  return cell;
}

// A CSV field as RFC 4180 quotes it: in double quotes when it contains a comma,
// a quote or a line break, with each quote doubled.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string field = "\"";
  for (char c : text) {
    if (c == '"') {
      field += '"';
    }
    field += c;
  }
  field += '"';
  return field;
}

std::string render_markdown() {
  size_t full = 0;
  size_t partial = 0;
  size_t none = 0;
  for (const SyscallEntry& entry : syscall_table()) {
    switch (entry.support) {
      case Support::kFull:
        ++full;
        break;
      case Support::kPartial:
        ++partial;
        break;
      case Support::kNone:
        ++none;
        break;
    }
  }
  std::string out =
      "# System calls\n\n"
      "The x86_64 system calls Linux defines and how ward serves each one: `full`\n"
      "(every flag and mode Linux documents), `partial` (the note lists what is\n"
      "missing) or `none` (the call fails as the note says and is recorded as a\n"
      "compatibility gap). `ward syscalls --format markdown` prints this file;\n"
      "a test fails when the two differ.\n\n";
  out += fmt::format("{} calls: {} full, {} partial, {} none.\n\n", full + partial + none, full,
                     partial, none);
  out += "| number | name | support | note |\n|---:|---|---|---|\n";
  for (const SyscallEntry& entry : syscall_table()) {
    out += fmt::format("| {} | {} | {} | {} |\n", entry.number, entry.name,
                       support_name(entry.support), markdown_cell(entry.note));
  }
  return out;
}

std::string render_json() {
  nlohmann::json rows = nlohmann::json::array();
  for (const SyscallEntry& entry : syscall_table()) {
    rows.push_back({{"number", entry.number},
                    {"name", entry.name},
                    {"support", support_name(entry.support)},
                    {"note", entry.note}});
  }
  nlohmann::json document = {
      {"schema_version", kJsonSchemaVersion}, {"arch", "x86_64"}, {"syscalls", rows}};
  return document.dump(2) + "\n";
}

std::string render_csv() {
  std::string out = "number,name,support,note\r\n";
  for (const SyscallEntry& entry : syscall_table()) {
    out += fmt::format("{},{},{},{}\r\n", entry.number, csv_field(entry.name),
                       support_name(entry.support), csv_field(entry.note));
  }
  return out;
}

}  // namespace

std::optional<TableFormat> parse_table_format(std::string_view name) {
  if (name == "markdown") {
    return TableFormat::kMarkdown;
  }
  if (name == "json") {
    return TableFormat::kJson;
  }
  if (name == "csv") {
    return TableFormat::kCsv;
  }
  return std::nullopt;
}

std::string_view support_name(Support support) {
  switch (support) {
    case Support::kFull:
      return "full";
    case Support::kPartial:
      return "partial";
    case Support::kNone:
      return "none";
  }
  return "none";
}

std::string render_syscall_table(TableFormat format) {
  switch (format) {
    case TableFormat::kMarkdown:
      return render_markdown();
    case TableFormat::kJson:
      return render_json();
    case TableFormat::kCsv:
      return render_csv();
  }
  return {};
}

}  // namespace ward::syscalls
