// pre_split.h — GPT-2's pre-tokenizer: cuts text into words, numbers, punctuation runs and
// whitespace runs before BPE merges run inside each piece (merges never cross a piece).
//
// The pattern is GPT-2's
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// run by PCRE2 in UTF + UCP mode (std::regex has neither \p{..} nor Unicode). \s is spelled out
// as JavaScript's whitespace set, because our reference encoder is the npm package gpt-3-encoder
// (a JavaScript regex); PCRE2's own \s differs from it on U+FEFF and U+0085.
// \p{L} and \p{N} are the Unicode tables of the system's PCRE2 (bookworm's 10.42: Unicode 14),
// and JavaScript's those of its ICU: letters added to Unicode since (about 14,000 code points,
// e.g. U+088F) are punctuation here and can split differently than under a newer Node.
// Bytes that are not valid UTF-8 (which GPT-2's encoder cannot even receive) come out as pieces
// of their own, so byte-level BPE still round-trips them.
#pragma once
#include <string_view>
#include <vector>

namespace tg {

// Appends the pieces of text to *pieces (views into text), in order; their concatenation is text.
// Thread-safe: the compiled pattern is shared, match state is per thread.
void gpt2_pre_split(std::string_view text, std::vector<std::string_view>* pieces);

// Whether code point cp is whitespace to the pattern (JavaScript's \s, as spelled out there).
bool is_pre_split_space(char32_t cp);

}  // namespace tg
