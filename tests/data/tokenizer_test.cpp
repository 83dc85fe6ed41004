// tokenizer_test.cpp — char, bpe and gpt2 tokenizers: round trips on random and adversarial
// text, invalid UTF-8, saving and loading, errors, BPE training, known GPT-2 encodings.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "data/bpe_tokenizer.h"
#include "data/char_tokenizer.h"
#include "data/gpt2_tokenizer.h"
#include "data/json.h"
#include "data/pre_split.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "data_test_util.h"

namespace tg {
namespace {

using test::ScratchDir;
using test::write_text;

// Random valid UTF-8 mixing ASCII, whitespace runs, 2/3/4-byte code points and combining marks.
// std::mt19937_64 is specified exactly by the standard, so these strings are the same everywhere.
std::string random_utf8(std::mt19937_64& rng, size_t n_chars) {
  std::string s;
  for (size_t i = 0; i < n_chars; ++i) {
    const uint64_t r = rng() % 100;
    char32_t cp;
    if (r < 40) cp = 0x20 + rng() % 95;
    else if (r < 50) cp = " \n\t\r"[rng() % 4];
    else if (r < 65) cp = 0x80 + rng() % (0x800 - 0x80);
    else if (r < 85) {
      do cp = 0x800 + rng() % (0x10000 - 0x800);
      while (cp >= 0xD800 && cp <= 0xDFFF);
    } else if (r < 95) cp = 0x10000 + rng() % (0x110000 - 0x10000);
    else cp = 0x300 + rng() % 0x70;  // combining marks
    utf8::append(s, cp);
  }
  return s;
}

std::vector<std::string> adversarial_strings() {
  std::vector<std::string> v = {"",
                                " ",
                                std::string(100000, ' '),
                                std::string(5000, '\n'),
                                " \n \n\t\t  \r\n",
                                "'s'''s'll'LL've 're's",
                                "e\xCC\x81\xCC\x81\xCC\x81",  // stacked combining acute accents
                                "\xEF\xBB\xBF" "BOM first",
                                std::string("nul\0inside", 10),
                                "<|endoftext|>",
                                "\xF4\x8F\xBF\xBF\xEF\xBF\xBF\xEF\xBF\xBE",  // U+10FFFF U+FFFF U+FFFE
                                "👨‍👩‍👧‍👦🇫🇷👍🏽",
                                "日本語 中文 한국어",
                                "123456789012345678901234567890",
                                std::string(3000, 'a') + std::string(3000, '1') + std::string(3000, '!'),
                                "\u00a0\u3000\u2028\ufeff\u0085 mixed whitespace"};
  return v;
}

// ---------------------------------------------------------------------------------------------
// char

TEST(CharTokenizer, VocabularyIsSortedCodePoints) {
  const CharTokenizer t = CharTokenizer::from_text("hello, wörld");
  // Sorted by code point: ' ' ',' 'd' 'e' 'h' 'l' 'o' 'r' 'w' 'ö' — ö is one token, not two bytes.
  EXPECT_EQ(t.vocab_size(), 10);
  EXPECT_EQ(t.token_bytes(0), " ");
  EXPECT_EQ(t.token_bytes(9), "ö");
  EXPECT_EQ(t.encode("wörld"), (std::vector<int32_t>{8, 9, 7, 5, 2}));
  EXPECT_EQ(t.eot_id(), -1);
  EXPECT_EQ(t.kind(), "char");
}

TEST(CharTokenizer, RoundTripsRandomAndAdversarialText) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const std::string s = random_utf8(rng, 1 + rng() % 500);
    const CharTokenizer t = CharTokenizer::from_text(s);
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
  for (const std::string& s : adversarial_strings()) {
    if (s.empty()) continue;
    const CharTokenizer t = CharTokenizer::from_text(s);
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
}

TEST(CharTokenizer, UnseenCharacterIsAnErrorNamingIt) {
  const CharTokenizer t = CharTokenizer::from_text("abc");
  try {
    t.encode("abé");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "char tokenizer: character 'é' (U+00E9) at byte offset 2 is not in the vocabulary");
  }
}

TEST(CharTokenizer, InvalidUtf8IsAnErrorNotACrash) {
  const CharTokenizer t = CharTokenizer::from_text("abc");
  for (const std::string bad : {"a\xFF", "\xC3", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xF5\x80\x80\x80", "\x80"})
    EXPECT_THROW(t.encode(bad), std::runtime_error) << bad;
  try {
    CharTokenizer::from_text("ok\nline\xFE", "corpus.txt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "corpus.txt: invalid UTF-8 byte 0xFE at byte offset 7 (line 2); the char tokenizer needs UTF-8 text "
                 "(use bpe or gpt2 for bytes)");
  }
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::string s(1 + rng() % 20, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    try {
      const CharTokenizer u = CharTokenizer::from_text(s);
      EXPECT_EQ(u.decode(u.encode(s)), s);  // it was valid after all
    } catch (const std::runtime_error&) {
    }
  }
}

TEST(CharTokenizer, DecodeRejectsIdsOutOfRange) {
  const CharTokenizer t = CharTokenizer::from_text("ab");
  EXPECT_THROW(t.decode({0, 2}), std::out_of_range);
  EXPECT_THROW(t.decode({-1}), std::out_of_range);
  try {
    t.decode({5});
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "token id 5 is out of range for a char vocabulary of 2");
  }
}

TEST(CharTokenizer, OptionalEndOfTextIsTheLastId) {
  const CharTokenizer t = CharTokenizer::from_text("ab", "text", /*with_eot=*/true);
  EXPECT_EQ(t.vocab_size(), 3);
  EXPECT_EQ(t.eot_id(), 2);
  EXPECT_EQ(t.decode({0, 2}), "a<|endoftext|>");
}

// ---------------------------------------------------------------------------------------------
// bpe

TEST(BpeTokenizer, LearnsTheMostFrequentPairsWithDeterministicTies) {
  // The textbook example: "aa" is the most frequent pair; then (a,b) and (aa,a) tie at 2 and
  // the smaller ids (97, 98) win.
  const BpeTokenizer t = BpeTokenizer::train("aaabdaaabac", 259);
  const Json j = Json::parse(t.to_json(), "t");
  EXPECT_EQ(j.at("merges", "t").dump(), "[[97,97],[97,98]]");
  EXPECT_EQ(t.vocab_size(), 259);
  EXPECT_EQ(t.eot_id(), 258);
  EXPECT_EQ(t.token_bytes(256), "aa");
  EXPECT_EQ(t.token_bytes(257), "ab");
  EXPECT_EQ(t.encode("aaab"), (std::vector<int32_t>{256, 257}));
}

TEST(BpeTokenizer, StopsWhenNoPairsRemain) {
  const BpeTokenizer t = BpeTokenizer::train("ab ab ab", 10000);
  EXPECT_LT(t.vocab_size(), 300);
  EXPECT_EQ(t.decode(t.encode("ab ab")), "ab ab");
}

TEST(BpeTokenizer, RejectsTooSmallVocab) { EXPECT_THROW(BpeTokenizer::train("abc", 256), std::invalid_argument); }

TEST(BpeTokenizer, RoundTripsAnythingIncludingInvalidUtf8) {
  std::mt19937_64 rng(11);
  std::string corpus;
  for (int i = 0; i < 20; ++i) corpus += random_utf8(rng, 400) + " the cat sat on the mat\n";
  const BpeTokenizer t = BpeTokenizer::train(corpus, 600);
  for (int trial = 0; trial < 100; ++trial) {
    const std::string s = random_utf8(rng, rng() % 300);
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
  for (const std::string& s : adversarial_strings()) EXPECT_EQ(t.decode(t.encode(s)), s);
  for (int trial = 0; trial < 200; ++trial) {  // raw bytes
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
}

TEST(BpeTokenizer, TrainsOnAMegabyteQuicklyAndCompresses) {
  // Not a timed assertion: this checks that training at realistic size works (it takes well
  // under a second in Release with incremental pair counts).
  std::mt19937_64 rng(5);
  const char* words[] = {"the", "of", "and", "to", "in", "is", "was", "that", "for", "it", "with", "as", "his",
                         "on", "be", "at", "by", "robot", "must", "obey", "orders", "given", "human", "beings",
                         "law", "second", "first", "third", "protect", "existence", "conflict", "except"};
  // Common words plus a long tail of made-up ones (as real text has), so there are pairs to
  // merge all the way to the vocabulary size.
  const char* syllables[] = {"ka", "ro", "mi", "ten", "sha", "lo", "qu", "ex", "pre", "ing", "ed", "ly", "tion", "st"};
  std::string corpus;
  while (corpus.size() < (1u << 20)) {
    if (rng() % 3 == 0) {
      for (int k = 1 + rng() % 4; k > 0; --k) corpus += syllables[rng() % (sizeof syllables / sizeof *syllables)];
    } else {
      corpus += words[rng() % (sizeof words / sizeof *words)];
    }
    corpus += (rng() % 12 == 0) ? ".\n" : " ";
  }
  const auto t0 = std::chrono::steady_clock::now();
  const BpeTokenizer t = BpeTokenizer::train(corpus, 5000);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("bpe: trained vocab %lld on %zu bytes in %.2f s\n", static_cast<long long>(t.vocab_size()), corpus.size(), s);
  const std::vector<int32_t> ids = t.encode(corpus);
  EXPECT_EQ(t.vocab_size(), 5000);
  EXPECT_EQ(t.decode(ids), corpus);
  EXPECT_LT(ids.size(), corpus.size() / 3);  // whole words became single tokens
}

// Ids are positions in the vocabulary list: a list in another order, or with a repeat, is
// refused rather than silently re-sorted into other ids.
TEST(CharTokenizer, RefusesAVocabularyOutOfOrderOrRepeated) {
  const auto ok = tokenizer_from_json(R"({"kind": "char", "vocab": ["a", "b"]})", "t.json");
  EXPECT_EQ(ok->encode("ba"), (std::vector<int32_t>{1, 0}));
  for (const char* bad : {R"({"kind": "char", "vocab": ["b", "a"]})",
                          R"({"kind": "char", "vocab": ["a", "a", "b"]})"}) {
    try {
      tokenizer_from_json(bad, "t.json");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("t.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("code-point order"), std::string::npos) << e.what();
    }
  }
}

// vocab_size and eot_id follow from the merges (or characters); a file whose stated values
// disagree was edited or damaged and is refused, naming the file and key. So is an empty
// character list.
TEST(Tokenizer, RefusesAFileThatContradictsItself) {
  const std::string bpe = R"({"kind": "bpe", "merges": [[104, 105]], )";
  EXPECT_EQ(tokenizer_from_json(bpe + R"("vocab_size": 258, "eot_id": 257})", "t.json")->vocab_size(), 258);
  const std::pair<std::string, const char*> refused[] = {
      {bpe + R"("vocab_size": 10, "eot_id": 257})", R"(t.json: key "vocab_size" says 10)"},
      {bpe + R"("vocab_size": 258, "eot_id": 99999})", R"(t.json: key "eot_id" says 99999)"},
      {bpe + R"("vocab_size": "x"})", R"(t.json: key "vocab_size")"},
      {R"({"kind": "char", "vocab": []})", "t.json: "},
      // An id past int32 is refused, not wrapped (4294967393 would have become 97).
      {R"({"kind": "bpe", "merges": [[4294967393, 98]]})", R"(t.json: key "merges": 4294967393 is not a token id)"},
      // Merges of their own results double a token's length each time: 2^40 bytes, refused.
      {[] {
         std::string m = R"({"kind": "bpe", "merges": [[97, 97])";
         for (int i = 0; i < 40; i++) m += ", [" + std::to_string(256 + i) + ", " + std::to_string(256 + i) + "]";
         return m + "]}";
       }(),
       "bpe merges build tokens of more than 1 GiB in all"}};
  for (const auto& [json, says] : refused) {
    try {
      tokenizer_from_json(json, "t.json");
      ADD_FAILURE() << json << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  }
}

TEST(BpeTokenizer, TrainingIsDeterministicAndSurvivesSaveLoad) {
  std::mt19937_64 rng(2);
  std::string corpus;
  for (int i = 0; i < 50; ++i) corpus += random_utf8(rng, 200);
  const BpeTokenizer a = BpeTokenizer::train(corpus, 500), b = BpeTokenizer::train(corpus, 500);
  EXPECT_EQ(a.to_json(), b.to_json());
  const auto c = tokenizer_from_json(a.to_json(), "tokenizer.json");
  EXPECT_EQ(c->kind(), "bpe");
  EXPECT_EQ(c->to_json(), a.to_json());
  EXPECT_EQ(c->encode(corpus), a.encode(corpus));
}

// ---------------------------------------------------------------------------------------------
// gpt2

class Gpt2 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::have_gpt2_files()) tok_ = new Gpt2Tokenizer(Gpt2Tokenizer::from_dir(test::gpt2_dir()));
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  void SetUp() override { TG_REQUIRE_GPT2_FILES(); }
  static Gpt2Tokenizer* tok_;
};
Gpt2Tokenizer* Gpt2::tok_ = nullptr;

TEST_F(Gpt2, KnownEncodings) {
  ASSERT_NE(tok_, nullptr);
  EXPECT_EQ(tok_->vocab_size(), 50257);
  EXPECT_EQ(tok_->eot_id(), 50256);
  EXPECT_EQ(tok_->encode("Hello world"), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(tok_->encode(" Hello world"), (std::vector<int32_t>{18435, 995}));
  // Runs of spaces and newlines: "\s+(?!\S)" leaves the last space to start the next word.
  EXPECT_EQ(tok_->encode("x  \n\n  y"), (std::vector<int32_t>{87, 220, 220, 628, 220, 331}));
  EXPECT_EQ(tok_->encode("a\n\nb"), (std::vector<int32_t>{64, 198, 198, 65}));
  // Plain text, not the special token (as GPT-2's encoder does): "<", "|", "end", ...
  const std::vector<int32_t> eot_text = tok_->encode("<|endoftext|>");
  EXPECT_GT(eot_text.size(), 1u);
  EXPECT_EQ(std::count(eot_text.begin(), eot_text.end(), 50256), 0);
  EXPECT_EQ(tok_->token_bytes(50256), "<|endoftext|>");
  EXPECT_EQ(tok_->token_bytes(220), " ");
}

TEST_F(Gpt2, RoundTripsRandomAdversarialAndInvalidText) {
  std::mt19937_64 rng(13);
  for (int trial = 0; trial < 100; ++trial) {
    const std::string s = random_utf8(rng, rng() % 400);
    EXPECT_EQ(tok_->decode(tok_->encode(s)), s);
  }
  for (const std::string& s : adversarial_strings()) EXPECT_EQ(tok_->decode(tok_->encode(s)), s);
  for (int trial = 0; trial < 300; ++trial) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(tok_->decode(tok_->encode(s)), s);
  }
}

TEST_F(Gpt2, SavedFormRebuildsTheSameTokenizer) {
  const std::string json = tok_->to_json();
  const auto t = tokenizer_from_json(json, "tokenizer.json");
  EXPECT_EQ(t->kind(), "gpt2");
  EXPECT_EQ(t->vocab_size(), 50257);
  EXPECT_EQ(t->encode("Hello world, it's 2024!"), tok_->encode("Hello world, it's 2024!"));
  EXPECT_EQ(t->to_json(), json);
  // A directory works as a tokenizer path too.
  EXPECT_EQ(load_tokenizer(test::gpt2_dir())->encode("Hello world"), (std::vector<int32_t>{15496, 995}));
}

// A tiny but complete GPT-2-format vocabulary: the 256 byte characters, two merges, <|endoftext|>.
std::string byte_char(int b) {
  const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  int n = 0;
  for (int x = 0; x < b; ++x)
    if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) ++n;
  std::string s;
  utf8::append(s, printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n));
  return s;
}

struct TinyGpt2Files {
  std::string encoder = [] {
    Json j{Json::Object{}};
    for (int b = 0; b < 256; ++b) j.set(byte_char(b), Json(b));
    j.set("he", Json(256));
    j.set("hel", Json(257));
    j.set("<|endoftext|>", Json(258));
    return j.dump();
  }();
  std::string merges = "#version: 0.2\nh e\nhe l\n";
};

TEST(Gpt2Files, TinyVocabularyWorks) {
  ScratchDir dir;
  TinyGpt2Files f;
  write_text(dir / "encoder.json", f.encoder);
  write_text(dir / "vocab.bpe", f.merges);
  const Gpt2Tokenizer t = Gpt2Tokenizer::from_dir(dir.path());
  EXPECT_EQ(t.encode("help"), (std::vector<int32_t>{257, 'p'}));
  EXPECT_EQ(t.eot_id(), 258);
}

std::string gpt2_error(const std::string& encoder, const std::string& merges) {
  ScratchDir dir;
  write_text(dir / "encoder.json", encoder);
  write_text(dir / "vocab.bpe", merges);
  try {
    Gpt2Tokenizer::from_dir(dir.path());
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    const size_t at = what.find(dir.path());
    if (at != std::string::npos) what.replace(at, dir.path().size(), "DIR");
    return what;
  }
  return "no error";
}

TEST(Gpt2Files, MalformedFilesAreRefusedNamingFileAndPlace) {
  const TinyGpt2Files ok;
  EXPECT_EQ(gpt2_error("{\"a\": 1,", ok.merges).rfind("DIR/encoder.json: invalid JSON at line 1 column 9", 0), 0u)
      << gpt2_error("{\"a\": 1,", ok.merges);
  EXPECT_EQ(gpt2_error("[1, 2]", ok.merges), "DIR/encoder.json: expected an object, found an array");
  std::string enc = ok.encoder;
  enc.replace(enc.find("\"he\":256"), 8, "\"he\":\"x\"");
  EXPECT_EQ(gpt2_error(enc, ok.merges), "DIR/encoder.json: key \"he\": expected an integer id");
  enc = ok.encoder;
  enc.replace(enc.find("\"he\":256"), 8, "\"he\":999");
  EXPECT_EQ(gpt2_error(enc, ok.merges), "DIR/encoder.json: key \"he\": id 999 is not below the number of entries 259");
  EXPECT_EQ(gpt2_error(ok.encoder, "#version: 0.2\nh e\nhel\n"),
            "DIR/vocab.bpe line 3: expected two tokens separated by one space, found \"hel\"");
  EXPECT_EQ(gpt2_error(ok.encoder, "#version: 0.2\nh e\nhe q\n"),
            "DIR/vocab.bpe merge 2 \"he q\": merged token \"heq\" is not in the encoder");
  EXPECT_EQ(gpt2_error(ok.encoder, "#version: 0.2\n"), "DIR/vocab.bpe: no merges found");
  EXPECT_EQ(gpt2_error(ok.encoder, ok.merges), "no error");
  ScratchDir empty;
  try {
    Gpt2Tokenizer::from_dir(empty.path());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.json: cannot open"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// loading

TEST(LoadTokenizer, RebuildsCharAndReportsBadFiles) {
  ScratchDir dir;
  const CharTokenizer c = CharTokenizer::from_text("hello 世界\n");
  save_tokenizer(c, dir / "tokenizer.json");
  const auto back = load_tokenizer(dir / "tokenizer.json");
  EXPECT_EQ(back->kind(), "char");
  EXPECT_EQ(back->to_json(), c.to_json());
  EXPECT_EQ(back->encode("世界 hello"), c.encode("世界 hello"));

  try {
    load_tokenizer(dir / "missing.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), dir / "missing.json" + ": cannot open (No such file or directory)");
  }
  write_text(dir / "weird.json", R"({"kind": "wordpiece"})");
  EXPECT_THROW(load_tokenizer(dir / "weird.json"), std::runtime_error);
  write_text(dir / "badchar.json", R"({"kind": "char", "vocab": ["a", "bc"]})");
  try {
    load_tokenizer(dir / "badchar.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), dir / "badchar.json" + ": key \"vocab\": entry \"bc\" is not exactly one character");
  }
  write_text(dir / "badbpe.json", R"({"kind": "bpe", "merges": [[97, 300]]})");
  EXPECT_THROW(load_tokenizer(dir / "badbpe.json"), std::runtime_error);
}

// is_pre_split_space (prepare's chunk cuts) and the split pattern (its own copy of the set)
// agree on every code point of the BMP. Between letters, a run of three whitespace characters
// splits into two pieces (`\s+(?!\S)` leaves the last one to the next piece); anything else
// stays one piece or is not split there. (The ASCII space, which the next word takes along, is
// the one known exception.)
TEST(PreSplit, ItsWhitespaceIsIsPreSplitSpace) {
  std::vector<std::string_view> pieces;
  for (char32_t cp = 1; cp < 0x10000; cp++) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == ' ') continue;
    std::string run;
    for (int i = 0; i < 3; i++) utf8::append(run, cp);
    const std::string text = "a" + run + "b";
    pieces.clear();
    gpt2_pre_split(text, &pieces);
    const bool split_like_whitespace =
        pieces.size() == 4 && pieces[1].size() == 2 * run.size() / 3 && pieces[2].size() == run.size() / 3;
    ASSERT_EQ(split_like_whitespace, is_pre_split_space(cp)) << "U+" << std::hex << static_cast<uint32_t>(cp);
  }
}

}  // namespace
}  // namespace tg
