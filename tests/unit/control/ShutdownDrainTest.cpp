#include "control/ShutdownDrain.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <optional>

namespace callrec::control {
namespace {

using namespace std::chrono_literals;

std::int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TEST(ShutdownDrainTest, NothingOwedEndsAtOnce) {
  boost::asio::io_context io;
  ShutdownDrain drain(io.get_executor(), {{"calls", [] { return std::size_t{0}; }}}, SteadyMs, 5ms);
  std::optional<ShutdownDrain::Outcome> outcome;
  drain.Begin(10s, [&](const ShutdownDrain::Outcome& o) { outcome = o; });
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->complete);
  EXPECT_FALSE(drain.running());
}

TEST(ShutdownDrainTest, StepsClearInOrderAndAreNotAskedAgain) {
  boost::asio::io_context io;
  std::size_t calls = 2, uploads = 1;
  int calls_asked_after_clear = 0;
  ShutdownDrain drain(io.get_executor(),
                      {{"calls",
                        [&] {
                          if (calls == 0) ++calls_asked_after_clear;
                          return calls > 0 ? calls-- : std::size_t{0};
                        }},
                       {"uploads", [&] { return uploads > 0 ? uploads-- : std::size_t{0}; }}},
                      SteadyMs, 1ms);
  std::optional<ShutdownDrain::Outcome> outcome;
  drain.Begin(10s, [&](const ShutdownDrain::Outcome& o) { outcome = o; });
  io.run();
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->complete);
  EXPECT_EQ(calls_asked_after_clear, 1);  // the poll that found it clear
}

TEST(ShutdownDrainTest, TimeoutNamesWhatIsStillOwed) {
  boost::asio::io_context io;
  ShutdownDrain drain(
      io.get_executor(),
      {{"calls", [] { return std::size_t{0}; }}, {"uploads", [] { return std::size_t{3}; }}},
      SteadyMs, 5ms);
  std::optional<ShutdownDrain::Outcome> outcome;
  drain.Begin(40ms, [&](const ShutdownDrain::Outcome& o) { outcome = o; });
  io.run();
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->complete);
  EXPECT_EQ(outcome->waiting_for, "uploads");
  EXPECT_EQ(outcome->remaining, 3u);
  EXPECT_GE(outcome->elapsed_ms, 40);
}

TEST(ShutdownDrainTest, CancelNeverCallsDone) {
  boost::asio::io_context io;
  ShutdownDrain drain(io.get_executor(), {{"calls", [] { return std::size_t{1}; }}}, SteadyMs, 5ms);
  bool done = false;
  drain.Begin(10s, [&](const ShutdownDrain::Outcome&) { done = true; });
  boost::asio::post(io, [&] { drain.Cancel(); });
  io.run();
  EXPECT_FALSE(done);
  EXPECT_FALSE(drain.running());
}

}  // namespace
}  // namespace callrec::control
