#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callrec::metrics {

// A sample's value as the exposition format writes it: integers exactly,
// other numbers in their shortest round-trip form, NaN, +Inf and -Inf.
class Number {
 public:
  template <std::integral T>
  Number(T value)  // NOLINT(google-explicit-constructor): a number is a number
      : integer_(true), negative_(value < 0), magnitude_(Magnitude(value)) {}
  template <std::floating_point T>
  Number(T value)  // NOLINT(google-explicit-constructor)
      : real_(static_cast<double>(value)) {}

  std::string Text() const;

 private:
  template <std::integral T>
  static std::uint64_t Magnitude(T value) {
    if constexpr (std::signed_integral<T>) {
      return value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
    } else {
      return static_cast<std::uint64_t>(value);
    }
  }
  bool integer_ = false;
  bool negative_ = false;
  std::uint64_t magnitude_ = 0;
  double real_ = 0;
};

enum class Type { kCounter, kGauge, kHistogram };

using Labels = std::vector<std::pair<std::string, std::string>>;

// One line of a family: its name is the family's plus `suffix` ("_bucket",
// "_sum", "_count" for a histogram's, else empty).
struct Sample {
  Labels labels;
  Number value;
  std::string suffix;
};

// What a family says at one scrape.
struct Family {
  std::string name;
  std::string help;
  Type type = Type::kGauge;
  std::vector<Sample> samples;
};

// Escaping as the text format wants it: HELP text (backslash, newline) and
// label values (backslash, double quote, newline).
std::string EscapeHelp(std::string_view text);
std::string EscapeLabelValue(std::string_view text);

// The exposition format (text 0.0.4): HELP and TYPE for each family, then its
// samples, families in the order given.
std::string Render(const std::vector<Family>& families);

// A counter owned by the module that counts; thread-safe.
class Counter {
 public:
  void Add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Counters by label values (label names fixed); thread-safe. Label sets
// appear once counted, or from the start when given to Preset.
class CounterFamily {
 public:
  explicit CounterFamily(std::vector<std::string> label_names)
      : label_names_(std::move(label_names)) {}
  void Add(const std::vector<std::string>& values, std::uint64_t n = 1);
  void Preset(const std::vector<std::string>& values) { Add(values, 0); }
  // Label values and counts, sorted by label values.
  std::map<std::vector<std::string>, std::uint64_t> Values() const;
  std::vector<Sample> Samples() const;
  const std::vector<std::string>& LabelNames() const { return label_names_; }

 private:
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::uint64_t> counts_;
};

// A histogram with fixed upper bounds (ascending); thread-safe.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Cumulative buckets (le = each bound, then +Inf), _sum and _count.
  std::vector<Sample> Samples() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> buckets_;  // one more than bounds_: the +Inf bucket
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Every metric family of a process, each registered once by the module that
// owns it; Render reads each at the scrape (callbacks may read values kept
// elsewhere) and writes the families sorted by name. Register before scrapes
// start; callbacks run on the scraping thread and must be thread-safe.
class Registry {
 public:
  using Collector = std::function<std::vector<Sample>()>;

  // A family read by `collect` at each scrape. `omit_when_empty`: a family
  // without samples is left out (its HELP and TYPE too) rather than declared empty.
  // Throws std::invalid_argument for a bad or already registered name.
  void Add(std::string name, std::string help, Type type, Collector collect,
           bool omit_when_empty = false);
  // One unlabelled counter or gauge read at each scrape.
  void AddCounter(std::string name, std::string help, std::function<Number()> read);
  void AddGauge(std::string name, std::string help, std::function<Number()> read);
  // Metrics owned by the caller (which outlives the registry's scrapes).
  void Add(std::string name, std::string help, const Counter& counter);
  void Add(std::string name, std::string help, const CounterFamily& family);
  void Add(std::string name, std::string help, const Histogram& histogram);

  // Every family's samples now, sorted by name.
  std::vector<Family> Snapshot() const;
  std::string Render() const;
  std::vector<std::string> Names() const;

 private:
  struct Entry {
    std::string help;
    Type type;
    Collector collect;
    bool omit_when_empty;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> families_;
};

}  // namespace callrec::metrics
