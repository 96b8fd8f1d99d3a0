#include "flow/HtmlSanitiser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace callrec::flow {
namespace {

// Hostile or broken markup and what must come out of it.
const std::vector<std::pair<std::string, std::string>> kCorpus{
    // The badges the Lambda and the flows write.
    {"<p style='display: inline-block;color:red'>NOT RECORDING ⬤</p>",
     "<p style=\"display:inline-block;color:red\">NOT RECORDING ⬤</p>"},
    {"<p style='display: inline-block;color:orange'>PAUSED ⬤</p>",
     "<p style=\"display:inline-block;color:orange\">PAUSED ⬤</p>"},
    // Scripts and other active content go with what is in them.
    {"<script>alert(1)</script>ok", "ok"},
    {"<SCRIPT SRC=//evil/x.js></SCRIPT>ok", "ok"},
    {"<svg onload=alert(1)><circle/></svg>after", "after"},
    {"<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>after", "after"},
    {"<iframe src=\"https://example.com\"></iframe>after", "after"},
    {"<object data=\"x\"><param name=a value=b>fallback</object>after", "after"},
    {"<style>p{color:red}</style>after", "after"},
    {"<template><script>alert(1)</script></template>shown", "shown"},
    {"<textarea><script>alert(1)</script></textarea>", ""},
    {"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", ""},
    {"<<script>script>alert(1)</script>", "&lt;"},
    // Event handlers and other attributes.
    {"<img src=x onerror=alert(1)>", ""},
    {"<p id=\"x\" name=\"y\" data-x=\"z\" onclick=\"a\">attrs</p>", "<p>attrs</p>"},
    {"<p title='\" onmouseover=\"alert(1)'>t</p>",
     "<p title=\"&quot; onmouseover=&quot;alert(1)\">t</p>"},
    {"<table class=\"t x<y\"><tr><td colspan=2 rowspan=\"x\">c</td></tr></table>",
     "<table class=\"t xy\"><tr><td colspan=\"2\">c</td></tr></table>"},
    // URLs: absolute http(s) only, however the scheme is disguised.
    {"<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\" javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"&#106;avascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"java&#x09;script:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>", "<a>x</a>"},
    {"<a href=\"//evil.example/\">p</a><a href=\"/relative\">r</a>", "<a>p</a><a>r</a>"},
    {"<a href=\"https://example.com/a?b=1&amp;c=2\" onclick=\"x()\" target=\"_blank\">link</a>",
     "<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">link</a>"},
    {"<a href=\"HTTP://example.com/\" class=\"btn\">ok</a>",
     "<a href=\"HTTP://example.com/\" rel=\"noopener noreferrer\" class=\"btn\">ok</a>"},
    {"<a href=\"https://example.com/\"x\" onclick=\"y\">q</a>",
     "<a href=\"https://example.com/\" rel=\"noopener noreferrer\">q</a>"},
    // Style: a few properties with plain values.
    {"<p style=\"color:red;background-image:url(javascript:alert(1))\">s</p>",
     "<p style=\"color:red\">s</p>"},
    {"<p style=\"background-color: expression(alert(1))\">s</p>", "<p>s</p>"},
    {"<p style=\"color: rgb(255, 0, 0); font-weight: bold; position: fixed; top:0\">s</p>",
     "<p style=\"color:rgb(255, 0, 0);font-weight:bold\">s</p>"},
    {"<p style=\"color:red\\;x\">s</p>", "<p>s</p>"},
    {"<p style=\"color:#ABC;background-color:#12345g;color:url(x)\">s</p>",
     "<p style=\"color:#abc\">s</p>"},
    {"<span style=\"color:rgb(1,2,3) url(x)\">s</span>", "<span>s</span>"},
    // Comments, entities, broken and unknown markup.
    {"<!-- comment --><p>x</p><!--[if IE]><script>x</script><![endif]-->", "<p>x</p>"},
    {"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"&amp; &quot; &#39; &copy;end", "&amp; &quot; &#39; ©end"},
    {"plain text & more", "plain text &amp; more"},
    {"<p>unclosed <b>bold <i>both</p> after", "<p>unclosed <b>bold <i>both</i></b></p> after"},
    {"<h1>h</h1><h7>h7</h7><ul><li>one<li>two</ul>",
     "<h1>h</h1>h7<ul><li>one</li><li>two</li></ul>"},
    {"<form action=\"https://evil\"><input name=x><button>go</button></form>", "go"},
    {"<br><hr/><code>x < y</code><pre>  pre  </pre>",
     "<br><hr><code>x &lt; y</code><pre>  pre  </pre>"},
    {"</div><b>closes the wrapper</b></div>", "<b>closes the wrapper</b>"},
    {"", ""},
    {"   ", ""},
};

TEST(HtmlSanitiser, HostileCorpus) {
  for (const auto& [input, expected] : kCorpus) {
    EXPECT_EQ(SanitiseHtml(input), expected) << "input: " << input;
  }
}

// What the serialiser may emit: allowed tags with allowed, double-quoted
// attributes whose values hold no quote or angle bracket; everything else text.
::testing::AssertionResult OnlySafeMarkup(const std::string& html) {
  static const std::set<std::string> kTags{
      "p",     "span",  "div", "b",  "strong", "i",      "em",         "u",     "s",
      "small", "br",    "hr",  "ul", "ol",     "li",     "h1",         "h2",    "h3",
      "h4",    "h5",    "h6",  "a",  "code",   "pre",    "blockquote", "table", "thead",
      "tbody", "tfoot", "tr",  "td", "th",     "caption"};
  static const std::set<std::string> kAttributes{"class", "title",   "style",  "href",
                                                 "rel",   "colspan", "rowspan"};
  std::size_t at = 0;
  while ((at = html.find('<', at)) != std::string::npos) {
    const std::size_t end = html.find('>', at);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "open tag in " << html;
    std::string tag = html.substr(at + 1, end - at - 1);
    if (!tag.empty() && tag[0] == '/') tag.erase(0, 1);
    const std::string name = tag.substr(0, tag.find(' '));
    if (!kTags.count(name))
      return ::testing::AssertionFailure() << "tag <" << name << "> in " << html;
    std::size_t pos = name.size();
    while (pos < tag.size()) {
      const std::size_t eq = tag.find("=\"", pos);
      const std::size_t close = eq == std::string::npos ? eq : tag.find('"', eq + 2);
      if (tag[pos] != ' ' || close == std::string::npos) {
        return ::testing::AssertionFailure() << "bad attribute syntax in " << html;
      }
      const std::string attribute = tag.substr(pos + 1, eq - pos - 1);
      const std::string value = tag.substr(eq + 2, close - eq - 2);
      if (!kAttributes.count(attribute)) {
        return ::testing::AssertionFailure() << "attribute " << attribute << " in " << html;
      }
      if (attribute == "href" && value.rfind("http://", 0) != 0 &&
          value.rfind("https://", 0) != 0 && value.rfind("HTTP", 0) != 0) {
        return ::testing::AssertionFailure() << "href " << value << " in " << html;
      }
      if (attribute == "style" &&
          (value.find('(') != std::string::npos && value.find("rgb") == std::string::npos &&
           value.find("hsl") == std::string::npos)) {
        return ::testing::AssertionFailure() << "style " << value << " in " << html;
      }
      pos = close + 1;
    }
    at = end + 1;
  }
  return ::testing::AssertionSuccess();
}

TEST(HtmlSanitiser, OutputIsSafeAndStableWhenSanitisedAgain) {
  for (const auto& [input, expected] : kCorpus) {
    const std::string once = SanitiseHtml(input);
    EXPECT_TRUE(OnlySafeMarkup(once));
    EXPECT_EQ(SanitiseHtml(once), once) << "input: " << input;
  }
}

TEST(HtmlSanitiser, RandomSplicesOfHostileMarkupComeOutSafe) {
  const std::vector<std::string> pieces{
      "<script>",
      "</script>",
      "<p ",
      "style=\"color:red\"",
      " onclick=\"x\"",
      ">",
      "<",
      "</p>",
      "<a href=",
      "\"javascript:x\"",
      "'https://e/'",
      "<!--",
      "-->",
      "&lt;",
      "&#60;",
      "<svg>",
      "<b>",
      "</b>",
      "<iframe>",
      "\"",
      "'",
      "text",
      "⬤",
      "<img src=x ",
      "<![CDATA[",
      "]]>",
      "<div>",
      "</div>",
      "\xff\xfe",
      "&",
      "<table><td>",
      "<style>",
      "url(",
      "expression(",
      "<br/>",
      "=",
  };
  std::mt19937 random(20240611);
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    const int count = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) input += pieces[random() % pieces.size()];
    const std::string out = SanitiseHtml(input);
    ASSERT_TRUE(OnlySafeMarkup(out)) << "input: " << input;
    // Text may say anything (it is escaped); markup may not.
    std::string markup;
    for (std::size_t at = out.find('<'); at != std::string::npos; at = out.find('<', at + 1)) {
      markup += out.substr(at, out.find('>', at) - at + 1);
    }
    for (const char* banned : {"javascript", "onclick", "expression", "url(", "src"}) {
      ASSERT_EQ(markup.find(banned), std::string::npos) << banned << " from input: " << input;
    }
  }
}

TEST(HtmlSanitiser, DeepNestingAndLargeInputsStayBounded) {
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += "<div><b>";
  deep += "core";
  std::string out = SanitiseHtml(deep);
  EXPECT_TRUE(OnlySafeMarkup(out));
  EXPECT_NE(out.find("core"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '<'), 2 * 32);  // 32 levels kept, text too
  for (int i = 0; i < 5000; ++i) deep += "<div><b>";           // past libxml2's own limit
  out = SanitiseHtml(deep);
  EXPECT_TRUE(OnlySafeMarkup(out));
  EXPECT_EQ(SanitiseHtml(std::string(2 << 20, 'a')), "");  // beyond 1 MiB: nothing
}

TEST(HtmlSanitiser, EscapesText) {
  EXPECT_EQ(EscapeHtml("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace callrec::flow
