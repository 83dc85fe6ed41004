// json_test.cpp — the JSON reader/writer: round trips, escapes, and errors with a position.
#include <gtest/gtest.h>

#include <random>

#include "data/json.h"
#include "data/tokenizer.h"

namespace tg {
namespace {

TEST(Json, ParsesAndDumpsRoundTrip) {
  const std::string text = R"({"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-2.5,"e":{},"f":[]})";
  const Json j = Json::parse(text, "t");
  EXPECT_EQ(j.dump(), text);
  EXPECT_EQ(j.at("a", "t").as_int("a"), 1);
  EXPECT_EQ(j.at("c", "t").as_string("c"), "x\"y\\z\n");
  EXPECT_DOUBLE_EQ(j.at("d", "t").as_number("d"), -2.5);
  EXPECT_EQ(j.find("missing"), nullptr);
}

TEST(Json, KeepsKeyOrder) {
  const Json j = Json::parse(R"({"z":1,"a":2,"m":3})", "t");
  const auto& o = j.as_object("t");
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].first, "z");
  EXPECT_EQ(o[2].first, "m");
}

TEST(Json, UnicodeEscapesIncludingSurrogatePairs) {
  const Json j = Json::parse(R"(["\u00e9", "\u0120", "\ud83d\ude00", "é"])", "t");
  const auto& a = j.as_array("t");
  EXPECT_EQ(a[0].as_string(""), "é");
  EXPECT_EQ(a[1].as_string(""), "Ġ");
  EXPECT_EQ(a[2].as_string(""), "😀");
  EXPECT_EQ(a[3].as_string(""), "é");
  // Control characters are escaped on output and read back.
  const Json s(std::string("a\x01\tb", 4));
  EXPECT_EQ(Json::parse(s.dump(), "t").as_string(""), std::string("a\x01\tb", 4));
}

TEST(Json, ErrorsNameSourceLineAndColumn) {
  try {
    Json::parse("{\"a\": 1,\n \"b\" 2}", "pairs.jsonl line 7");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("pairs.jsonl line 7"), std::string::npos) << what;
    EXPECT_NE(what.find("line 2 column 6"), std::string::npos) << what;
  }
  for (const char* bad : {"", "{", "[1,]", "{\"a\":}", "\"abc", "tru", "01", "1.", "\"\\ud800\"", "[1] x", "{'a':1}"})
    EXPECT_THROW(Json::parse(bad, "t"), std::runtime_error) << bad;
}

TEST(Json, TypeErrorsSayWhatWasExpected) {
  const Json j = Json::parse(R"({"n": "five", "x": 1.5})", "cfg.json");
  try {
    j.at("n", "cfg.json").as_int("cfg.json: key \"n\"");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cfg.json: key \"n\": expected an integer, found a string");
  }
  EXPECT_THROW(j.at("x", "t").as_int("t"), std::runtime_error);
  EXPECT_THROW(j.at("nope", "t"), std::runtime_error);
}

TEST(Json, DeepNestingIsAnErrorNotACrash) {
  EXPECT_THROW(Json::parse(std::string(100000, '['), "t"), std::runtime_error);
}

TEST(Json, IntegersAreWrittenWithoutADecimalPoint) {
  Json j;
  j.set("n", int64_t{50256});
  j.set("x", 0.25);
  EXPECT_EQ(j.dump(), R"({"n":50256,"x":0.25})");
}

TEST(Json, MutatedInputNeverCrashes) {
  // Random byte edits of valid documents: each parse either succeeds or throws runtime_error
  // (a build with -DTAPEGPT_SANITIZE=ON runs it under ASan/UBSan, which also catch reads out of
  // bounds; the default build catches crashes only). Same for rebuilding a tokenizer.
  const std::string docs[] = {R"({"kind":"char","eot":false,"vocab":["\n"," ","a","\u00e9"]})",
                              R"({"kind":"bpe","merges":[[97,98],[256,99]]})",
                              R"({"prompt": "english: cat\nfrench:", "completion": " chat"})"};
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string s = docs[trial % 3];
    for (int k = 1 + rng() % 4; k > 0; --k) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = static_cast<char>(rng()); break;
        case 1: s.erase(at, 1 + rng() % 3); break;
        default: s.insert(at, 1, "{}[]\",:0e\xff"[rng() % 10]);
      }
      if (s.empty()) s = "x";
    }
    try {
      Json::parse(s, "fuzz");
    } catch (const std::runtime_error&) {
    }
    try {
      tokenizer_from_json(s, "fuzz")->encode("a");
    } catch (const std::exception&) {  // runtime_error, or out_of_range from a valid-but-odd vocabulary
    }
  }
}

}  // namespace
}  // namespace tg
