// utf8.h — the few UTF-8 primitives the tokenizers need: decode one code point with validation,
// append one code point, and describe a code point for an error message.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tg::utf8 {

// Decodes the code point starting at s[i]. On success returns its length in bytes (1..4) and
// stores it in *cp; on an invalid sequence (bad lead byte, truncated, overlong, surrogate,
// > U+10FFFF) returns 0. Strict, as RFC 3629 requires, so that "valid" means the same thing here
// as in JavaScript's TextDecoder and PCRE2's UTF check.
size_t decode(std::string_view s, size_t i, char32_t* cp);

// Appends the UTF-8 encoding of cp (assumed a valid scalar value) to out.
void append(std::string& out, char32_t cp);

// Byte offset of the first invalid sequence in s, or npos when s is valid UTF-8.
size_t find_invalid(std::string_view s);

// Length of the longest prefix of s that does not end inside a multi-byte sequence: the cut
// point that keeps a partially read code point for the next chunk.
size_t complete_prefix(std::string_view s);

// 3 when s starts with a UTF-8 byte-order mark (an editor's, before a config, ids or pairs
// file's first line), else 0.
inline size_t bom_length(std::string_view s) { return s.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0; }

// "'é' (U+00E9)" — a printable description of a code point for error messages.
std::string describe(char32_t cp);

}  // namespace tg::utf8
