// corpus_reader.h — reads a byte range of a text file in bounded chunks, each ending where the
// tokenizer may safely cut, so a corpus of any size is encoded with a few MB in memory.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tg {

enum class CutRule {
  // At a code-point boundary: enough for the char tokenizer, which encodes each code point alone.
  kCodePoint,
  // Just before an ASCII space or newline that follows a character that is not whitespace
  // (any script: CJK text ends its lines with 。 or a letter). No GPT-2 pre-split piece spans
  // such a point and no piece before it looks past it (only whitespace pieces look ahead), so
  // encoding the chunks separately gives exactly the ids of encoding the whole text.
  kPreSplit,
};

// Calls fn(chunk, offset_in_file) for consecutive chunks covering [begin, end) of the file.
// Chunks are about chunk_bytes; a chunk without any safe cut grows up to 16 * chunk_bytes and is
// then cut at a code-point boundary (only text with no ASCII space or newline after a visible
// character for that long).
void for_each_chunk(const std::string& path, int64_t begin, int64_t end, size_t chunk_bytes, CutRule rule,
                    const std::function<void(std::string_view chunk, int64_t offset)>& fn);

// Position of the last safe cut in text under `rule`, 0 if there is none.
size_t last_safe_cut(std::string_view text, CutRule rule);

}  // namespace tg
