// gpt2_parity_test.cpp — our gpt2 tokenizer against the reference, the npm package
// gpt-3-encoder run with node, on ~300 KB of varied text (gpt2_reference.js generates it:
// contractions, whitespace runs, Unicode spaces, digits, punctuation, accents, CJK, emoji...).
// Both the library and `tapegpt tokenize` are compared. Needs node and `npm install`.
#include <gtest/gtest.h>

#include <sstream>

#include "data/file_util.h"
#include "data/gpt2_tokenizer.h"
#include "data_test_util.h"

namespace tg {
namespace {

using test::run;
using test::sh;

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::istringstream in(s);
  int64_t x;
  while (in >> x) ids.push_back(static_cast<int32_t>(x));
  return ids;
}

std::string node_binary() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"})
    if (run(std::string("test -x ") + p).status == 0) return p;
  return "node";
}

TEST(Gpt2Parity, MatchesTheNpmEncoderOnVariedText) {
  TG_REQUIRE_GPT2_FILES();
  test::ScratchDir dir;
  const std::string script = std::string(TAPEGPT_SOURCE_DIR) + "/tests/data/gpt2_reference.js";
  for (const char* seed : {"1", "2"}) {
    const auto ref = run(node_binary() + " " + sh(script) + " " + sh(test::gpt2_dir()) + " " + sh(dir.path()) + " 150000 " + seed);
    ASSERT_EQ(ref.status, 0) << "node failed (is node installed?): " << ref.output;
    const std::string text = read_file(dir / "text.txt");
    const std::vector<int32_t> expected = parse_ids(read_file(dir / "ids.txt"));
    ASSERT_GT(expected.size(), 50000u);

    static const Gpt2Tokenizer tok = Gpt2Tokenizer::from_dir(test::gpt2_dir());
    const std::vector<int32_t> ours = tok.encode(text);
    size_t first_diff = 0;
    while (first_diff < ours.size() && first_diff < expected.size() && ours[first_diff] == expected[first_diff]) ++first_diff;
    EXPECT_EQ(ours.size(), expected.size());
    if (first_diff < std::max(ours.size(), expected.size())) {
      const size_t from = first_diff > 5 ? first_diff - 5 : 0;
      std::string context = tok.decode(std::vector<int32_t>(expected.begin() + from,
                                                            expected.begin() + std::min(expected.size(), first_diff + 5)));
      ADD_FAILURE() << "seed " << seed << ": first difference at token " << first_diff << " (ours "
                    << (first_diff < ours.size() ? ours[first_diff] : -1) << ", npm "
                    << (first_diff < expected.size() ? expected[first_diff] : -1) << ") in text \"" << context << "\"";
    }
    EXPECT_EQ(tok.decode(ours), text);

    // The command line gives the same ids.
    const auto cli = run(test::tapegpt() + " tokenize --tokenizer " + sh(test::gpt2_dir()) + " --input " + sh(dir / "text.txt"),
                         /*merge_stderr=*/false);
    ASSERT_EQ(cli.status, 0);
    EXPECT_EQ(parse_ids(cli.output), expected);
  }
}

}  // namespace
}  // namespace tg
