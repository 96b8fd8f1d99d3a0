#include "callgen/RtpOnlyCalls.hpp"

#include <fstream>
#include <sstream>
#include <unordered_set>

#include "callgen/CallgenConfig.hpp"

namespace callrec::callgen {
namespace {

std::optional<UdpAddress> ParseDestination(const std::string& text) {
  std::string host;
  std::uint16_t port = 0;
  if (!SplitHostPort(text, host, port)) return std::nullopt;
  return MakeUdpAddress(host, port);
}

}  // namespace

core::Result<std::vector<RtpOnlyCall>, std::string> ParseRtpOnlyCalls(std::istream& text) {
  std::vector<RtpOnlyCall> calls;
  std::unordered_set<std::string> names;
  std::string line;
  for (int number = 1; std::getline(text, line); ++number) {
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string word; fields >> word;) words.push_back(word);
    if (words.empty() || words.front().front() == '#') continue;
    const std::string where = "line " + std::to_string(number) + ": ";
    if (words.size() != 3) {
      return where + "expected NAME CUSTOMER_DEST AGENT_DEST, found " +
             std::to_string(words.size()) + " fields";
    }
    RtpOnlyCall call;
    call.name = words[0];
    const char* roles[] = {"customer", "agent"};
    UdpAddress* targets[] = {&call.customer, &call.agent};
    for (int i = 0; i < 2; ++i) {
      auto destination = ParseDestination(words[1 + i]);
      if (!destination) {
        return where + roles[i] + " destination '" + words[1 + i] +
               "' is not IP:PORT or [IPv6]:PORT with a numeric address";
      }
      *targets[i] = *destination;
    }
    if (!names.insert(call.name).second) return where + "call name '" + call.name + "' repeated";
    calls.push_back(std::move(call));
  }
  if (calls.empty())
    return std::string("no calls listed (one line a call: NAME CUSTOMER_DEST AGENT_DEST)");
  return calls;
}

core::Result<std::vector<RtpOnlyCall>, std::string> ReadRtpOnlyCalls(const std::string& path) {
  std::ifstream file(path);
  if (!file) return "cannot read " + path;
  auto calls = ParseRtpOnlyCalls(file);
  if (!calls) return path + ": " + calls.error();
  return calls;
}

}  // namespace callrec::callgen
