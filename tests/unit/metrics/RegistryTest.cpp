#include "metrics/Registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace callrec::metrics {
namespace {

TEST(Number, IntegersExactly) {
  EXPECT_EQ(Number(0).Text(), "0");
  EXPECT_EQ(Number(std::uint64_t{18446744073709551615U}).Text(), "18446744073709551615");
  EXPECT_EQ(Number(std::int64_t{-42}).Text(), "-42");
  EXPECT_EQ(Number(std::numeric_limits<std::int64_t>::min()).Text(), "-9223372036854775808");
}

TEST(Number, DoublesShortestAndSpecialValues) {
  EXPECT_EQ(Number(0.0).Text(), "0");
  EXPECT_EQ(Number(3.0).Text(), "3");
  EXPECT_EQ(Number(0.25).Text(), "0.25");
  EXPECT_EQ(Number(0.0001).Text(), "0.0001");
  EXPECT_EQ(Number(0.00025).Text(), "0.00025");
  EXPECT_EQ(Number(0.1 + 0.2).Text(), "0.30000000000000004");
  EXPECT_EQ(Number(1e-7).Text(), "1e-07");
  EXPECT_EQ(Number(1.5e300).Text(), "1.5e+300");
  EXPECT_EQ(Number(std::nan("")).Text(), "NaN");
  EXPECT_EQ(Number(std::numeric_limits<double>::infinity()).Text(), "+Inf");
  EXPECT_EQ(Number(-std::numeric_limits<double>::infinity()).Text(), "-Inf");
}

TEST(Escaping, HelpEscapesBackslashAndNewlineOnly) {
  EXPECT_EQ(EscapeHelp("a \\ b\nc \"d\""), "a \\\\ b\\nc \"d\"");
}

TEST(Escaping, LabelValuesEscapeQuotesToo) {
  EXPECT_EQ(EscapeLabelValue("a \\ b\nc \"d\""), "a \\\\ b\\nc \\\"d\\\"");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(Render, HelpTypeAndSamples) {
  const std::string text = Render({{"x_total",
                                    "Things.\nMore.",
                                    Type::kCounter,
                                    {{{{"a", "1"}, {"b", "q\""}}, 5, ""}, {{}, 2.5, ""}}}});
  EXPECT_EQ(text,
            "# HELP x_total Things.\\nMore.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"1\",b=\"q\\\"\"} 5\n"
            "x_total 2.5\n");
}

TEST(Registry, FamiliesSortedByNameWhateverTheRegistrationOrder) {
  Registry registry;
  registry.AddGauge("b_gauge", "B.", [] { return Number(1); });
  registry.AddCounter("a_total", "A.", [] { return Number(2); });
  registry.AddGauge("a", "A gauge.", [] { return Number(3); });
  EXPECT_EQ(registry.Render(),
            "# HELP a A gauge.\n# TYPE a gauge\na 3\n"
            "# HELP a_total A.\n# TYPE a_total counter\na_total 2\n"
            "# HELP b_gauge B.\n# TYPE b_gauge gauge\nb_gauge 1\n");
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"a", "a_total", "b_gauge"}));
}

TEST(Registry, ValuesReadAtEachScrape) {
  Registry registry;
  int value = 1;
  registry.AddGauge("v", "V.", [&value] { return Number(value); });
  EXPECT_EQ(registry.Render(), "# HELP v V.\n# TYPE v gauge\nv 1\n");
  value = 7;
  EXPECT_EQ(registry.Render(), "# HELP v V.\n# TYPE v gauge\nv 7\n");
}

TEST(Registry, EmptyFamilyDeclaredUnlessOmitted) {
  Registry registry;
  registry.Add("empty_total", "Nothing yet.", Type::kCounter, [] { return std::vector<Sample>{}; });
  registry.Add(
      "gone", "Absent.", Type::kGauge, [] { return std::vector<Sample>{}; }, true);
  EXPECT_EQ(registry.Render(), "# HELP empty_total Nothing yet.\n# TYPE empty_total counter\n");
}

TEST(Registry, RefusesDuplicatesBadNamesAndEmptyHelp) {
  Registry registry;
  registry.AddGauge("ok:name_1", "Fine.", [] { return Number(0); });
  EXPECT_THROW(registry.AddGauge("ok:name_1", "Again.", [] { return Number(0); }),
               std::invalid_argument);
  EXPECT_THROW(registry.AddGauge("1abc", "Digit first.", [] { return Number(0); }),
               std::invalid_argument);
  EXPECT_THROW(registry.AddGauge("a-b", "Dash.", [] { return Number(0); }), std::invalid_argument);
  EXPECT_THROW(registry.AddGauge("", "Empty.", [] { return Number(0); }), std::invalid_argument);
  EXPECT_THROW(registry.AddGauge("no_help", "", [] { return Number(0); }), std::invalid_argument);
  const CounterFamily bad_label({"a:b"});
  EXPECT_THROW(registry.Add("bad_label_total", "Colon in a label.", bad_label),
               std::invalid_argument);
  const CounterFamily reserved({"__name"});
  EXPECT_THROW(registry.Add("reserved_total", "Reserved label.", reserved), std::invalid_argument);
}

TEST(CounterFamily, SortedByLabelValuesWithPresets) {
  Registry registry;
  CounterFamily family({"edge"});
  family.Preset({"http"});
  family.Add({"sip"}, 2);
  family.Add({"loop"});
  registry.Add("errors_total", "Errors.", family);
  EXPECT_EQ(registry.Render(),
            "# HELP errors_total Errors.\n# TYPE errors_total counter\n"
            "errors_total{edge=\"http\"} 0\n"
            "errors_total{edge=\"loop\"} 1\n"
            "errors_total{edge=\"sip\"} 2\n");
  EXPECT_THROW(family.Add({"a", "b"}), std::invalid_argument);
}

TEST(Counter, Adds) {
  Registry registry;
  Counter counter;
  counter.Add();
  counter.Add(4);
  registry.Add("c_total", "C.", counter);
  EXPECT_EQ(registry.Render(), "# HELP c_total C.\n# TYPE c_total counter\nc_total 5\n");
}

TEST(Histogram, CumulativeBucketsSumAndCount) {
  Registry registry;
  Histogram histogram({0.001, 0.5, 1});
  histogram.Observe(0.0005);
  histogram.Observe(0.001);  // on a bound: in that bucket (le)
  histogram.Observe(0.75);
  histogram.Observe(3);
  registry.Add("latency_seconds", "Latency.", histogram);
  EXPECT_EQ(registry.Render(),
            "# HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.001\"} 2\n"
            "latency_seconds_bucket{le=\"0.5\"} 2\n"
            "latency_seconds_bucket{le=\"1\"} 3\n"
            "latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "latency_seconds_sum 3.7515\n"
            "latency_seconds_count 4\n");
  EXPECT_THROW(Histogram({1, 0.5}), std::invalid_argument);
}

}  // namespace
}  // namespace callrec::metrics
