#include "metrics/Registry.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace callrec::metrics {
namespace {

bool ValidName(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

const char* TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string Number::Text() const {
  if (integer_) return (negative_ && magnitude_ != 0 ? "-" : "") + std::to_string(magnitude_);
  if (std::isnan(real_)) return "NaN";
  if (std::isinf(real_)) return real_ > 0 ? "+Inf" : "-Inf";
  const double magnitude = std::fabs(real_);
  // Whole numbers as integers; the rest in fixed notation where it is short,
  // each the shortest text that reads back as the same double.
  if (magnitude < 9007199254740992.0 && real_ == std::trunc(real_)) {
    return std::to_string(static_cast<std::int64_t>(real_));
  }
  std::array<char, 64> buffer{};
  const bool fixed = magnitude >= 1e-4 && magnitude < 1e15;
  const auto result = fixed ? std::to_chars(buffer.data(), buffer.data() + buffer.size(), real_,
                                            std::chars_format::fixed)
                            : std::to_chars(buffer.data(), buffer.data() + buffer.size(), real_);
  return {buffer.data(), result.ptr};
}

std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeLabelValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Render(const std::vector<Family>& families) {
  std::string out;
  for (const Family& family : families) {
    out += "# HELP " + family.name + " " + EscapeHelp(family.help) + "\n";
    out += "# TYPE " + family.name + " " + TypeName(family.type) + "\n";
    for (const Sample& sample : family.samples) {
      out += family.name;
      out += sample.suffix;
      if (!sample.labels.empty()) {
        out += '{';
        bool first = true;
        for (const auto& [label, value] : sample.labels) {
          if (!first) out += ',';
          first = false;
          out += label + "=\"" + EscapeLabelValue(value) + "\"";
        }
        out += '}';
      }
      out += ' ' + sample.value.Text() + '\n';
    }
  }
  return out;
}

void CounterFamily::Add(const std::vector<std::string>& values, std::uint64_t n) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metrics: " + std::to_string(values.size()) + " label values for " +
                                std::to_string(label_names_.size()) + " labels");
  }
  std::lock_guard lock(mutex_);
  counts_[values] += n;
}

std::map<std::vector<std::string>, std::uint64_t> CounterFamily::Values() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::vector<Sample> CounterFamily::Samples() const {
  std::vector<Sample> samples;
  for (const auto& [values, count] : Values()) {
    Labels labels;
    for (std::size_t i = 0; i < values.size(); ++i) labels.emplace_back(label_names_[i], values[i]);
    samples.push_back({std::move(labels), count, ""});
  }
  return samples;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1, 0) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (std::isnan(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("metrics: histogram bounds must ascend");
    }
  }
}

void Histogram::Observe(double value) {
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  std::lock_guard lock(mutex_);
  buckets_[bucket] += 1;
  sum_ += value;
  count_ += 1;
}

std::vector<Sample> Histogram::Samples() const {
  std::lock_guard lock(mutex_);
  std::vector<Sample> samples;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i];
    samples.push_back({{{"le", Number(bounds_[i]).Text()}}, cumulative, "_bucket"});
  }
  cumulative += buckets_.back();
  samples.push_back({{{"le", "+Inf"}}, cumulative, "_bucket"});
  samples.push_back({{}, sum_, "_sum"});
  samples.push_back({{}, count_, "_count"});
  return samples;
}

void Registry::Add(std::string name, std::string help, Type type, Collector collect,
                   bool omit_when_empty) {
  if (!ValidName(name, true)) throw std::invalid_argument("metrics: bad name '" + name + "'");
  if (help.empty()) throw std::invalid_argument("metrics: " + name + " has no help text");
  std::lock_guard lock(mutex_);
  const bool added =
      families_.emplace(name, Entry{std::move(help), type, std::move(collect), omit_when_empty})
          .second;
  if (!added) throw std::invalid_argument("metrics: " + name + " registered twice");
}

void Registry::AddCounter(std::string name, std::string help, std::function<Number()> read) {
  Add(std::move(name), std::move(help), Type::kCounter, [read = std::move(read)] {
    return std::vector<Sample>{{{}, read(), ""}};
  });
}

void Registry::AddGauge(std::string name, std::string help, std::function<Number()> read) {
  Add(std::move(name), std::move(help), Type::kGauge, [read = std::move(read)] {
    return std::vector<Sample>{{{}, read(), ""}};
  });
}

void Registry::Add(std::string name, std::string help, const Counter& counter) {
  AddCounter(std::move(name), std::move(help), [&counter] { return Number(counter.Value()); });
}

void Registry::Add(std::string name, std::string help, const CounterFamily& family) {
  for (const auto& label : family.LabelNames()) {
    if (!ValidName(label, false) || label.starts_with("__")) {
      throw std::invalid_argument("metrics: bad label name '" + label + "'");
    }
  }
  Add(std::move(name), std::move(help), Type::kCounter, [&family] { return family.Samples(); });
}

void Registry::Add(std::string name, std::string help, const Histogram& histogram) {
  Add(std::move(name), std::move(help), Type::kHistogram,
      [&histogram] { return histogram.Samples(); });
}

std::vector<Family> Registry::Snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<Family> families;
  families.reserve(families_.size());
  for (const auto& [name, entry] : families_) {
    std::vector<Sample> samples = entry.collect();
    if (samples.empty() && entry.omit_when_empty) continue;
    families.push_back({name, entry.help, entry.type, std::move(samples)});
  }
  return families;
}

std::string Registry::Render() const {
  return metrics::Render(Snapshot());
}

std::vector<std::string> Registry::Names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : families_) names.push_back(name);
  return names;
}

}  // namespace callrec::metrics
