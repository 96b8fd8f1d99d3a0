#include "log/Log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

namespace callrec::log {
namespace {

spdlog::logger& Logger() {
  // Created on first use (the pattern closes the JSON object); the logger keeps no callrec state,
  // only the sink.
  static auto logger = [] {
    auto created = spdlog::stderr_logger_mt("callrec");
    created->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                         spdlog::pattern_time_type::utc);
    created->flush_on(spdlog::level::info);
    return created;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void Configure(std::string_view level) {
  Logger().set_level(spdlog::level::from_str(std::string(level)));
}

bool Enabled(Level level) {
  return Logger().should_log(ToSpd(level));
}

void Write(Level level, std::string_view event, const boost::json::object& fields) {
  auto& logger = Logger();
  if (!logger.should_log(ToSpd(level))) return;
  std::string line = "\"event\":";
  line += boost::json::serialize(boost::json::string_view(event.data(), event.size()));
  for (const auto& field : fields) {
    line += ',';
    line += boost::json::serialize(boost::json::string_view(field.key()));
    line += ':';
    line += boost::json::serialize(field.value());
  }
  logger.log(ToSpd(level), "{}", line);
}

}  // namespace callrec::log
