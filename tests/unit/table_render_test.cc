#include "syscalls/table_render.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "syscalls/table.h"

namespace ward::syscalls {
namespace {

size_t count_lines(const std::string& text) {
  size_t lines = 0;
  for (char c : text) {
    lines += c == '\n' ? 1 : 0;
  }
  return lines;
}

TEST(TableRenderTest, ParsesTheThreeFormatNames) {
  EXPECT_EQ(parse_table_format("markdown"), TableFormat::kMarkdown);
  EXPECT_EQ(parse_table_format("json"), TableFormat::kJson);
  EXPECT_EQ(parse_table_format("csv"), TableFormat::kCsv);
  EXPECT_EQ(parse_table_format("xml"), std::nullopt);
  EXPECT_EQ(parse_table_format(""), std::nullopt);
}

TEST(TableRenderTest, JsonHasOneRecordPerRow) {
  const auto document = nlohmann::json::parse(render_syscall_table(TableFormat::kJson));
  EXPECT_EQ(document.at("schema_version"), 1);
  EXPECT_EQ(document.at("arch"), "x86_64");
  const auto& rows = document.at("syscalls");
  ASSERT_EQ(rows.size(), syscall_table().size());
  const SyscallEntry& first = syscall_table().front();
  EXPECT_EQ(rows[0].at("number"), first.number);
  EXPECT_EQ(rows[0].at("name"), std::string(first.name));
  EXPECT_EQ(rows[0].at("support"), std::string(support_name(first.support)));
}

TEST(TableRenderTest, CsvHasAHeaderAndOneLinePerRow) {
  const std::string csv = render_syscall_table(TableFormat::kCsv);
  EXPECT_EQ(csv.rfind("number,name,support,note\r\n", 0), 0U);
  // Notes contain no line breaks, so every record is one line.
  EXPECT_EQ(count_lines(csv), syscall_table().size() + 1);
}

TEST(TableRenderTest, CsvQuotesNotesWithCommas) {
  const std::string csv = render_syscall_table(TableFormat::kCsv);
  for (const SyscallEntry& entry : syscall_table()) {
    if (entry.note.find(',') == std::string_view::npos) {
      continue;
    }
    const std::string prefix = std::to_string(entry.number) + "," + std::string(entry.name) + "," +
                               std::string(support_name(entry.support)) + ",\"";
    EXPECT_NE(csv.find(prefix), std::string::npos) << entry.name;
    return;
  }
  GTEST_SKIP() << "no note holds a comma";
}

TEST(TableRenderTest, MarkdownHasOneTableLinePerRow) {
  const std::string markdown = render_syscall_table(TableFormat::kMarkdown);
  std::istringstream lines(markdown);
  size_t table_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    table_lines += line.rfind("| ", 0) == 0 && line.find(" | ") != std::string::npos ? 1 : 0;
  }
  // The header line, then one per row.
  EXPECT_EQ(table_lines, syscall_table().size() + 1);
  EXPECT_NE(markdown.find("| 0 | read | full |"), std::string::npos);
}

}  // namespace
}  // namespace ward::syscalls
