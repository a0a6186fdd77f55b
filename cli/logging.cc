#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/options.h"

namespace ward::cli {

void configure_logging(const GlobalOptions& global, bool strace) {
  std::shared_ptr<spdlog::logger> logger;
  if (global.log_file.empty()) {
    logger = spdlog::stderr_logger_st("ward");
    logger->set_pattern("[ward %l] %v");
  } else {
    try {
      logger = spdlog::basic_logger_st("ward", global.log_file);
      logger->set_pattern("[%Y-%m-%d %H:%M:%S.%f] [%l] %v");
    } catch (const spdlog::spdlog_ex& error) {
      std::fprintf(stderr, "ward: cannot open log file %s: %s\n", global.log_file.c_str(),
                   error.what());
      logger = spdlog::stderr_logger_st("ward");
      logger->set_pattern("[ward %l] %v");
    }
  }
  spdlog::level::level_enum level = spdlog::level::from_str(global.log_level);
  // --strace lines are info messages; they must show whatever the level.
  if (strace && level > spdlog::level::info) {
    level = spdlog::level::info;
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace ward::cli
