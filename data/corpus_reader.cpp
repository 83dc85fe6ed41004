// corpus_reader.cpp — see corpus_reader.h.
#include "data/corpus_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "data/pre_split.h"
#include "data/utf8.h"

namespace tg {

namespace {
// Whether the code point that ends just before p is valid UTF-8 and not whitespace.
bool visible_before(std::string_view text, size_t p) {
  const auto last = static_cast<unsigned char>(text[p - 1]);
  if (last < 0x80) return last > ' ' && last < 0x7F;
  size_t start = p - 1;  // back over continuation bytes to the sequence's lead byte
  while (start > 0 && p - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  char32_t cp;
  return utf8::decode(text, start, &cp) == p - start && !is_pre_split_space(cp);
}
}  // namespace

size_t last_safe_cut(std::string_view text, CutRule rule) {
  if (rule == CutRule::kCodePoint) return utf8::complete_prefix(text);
  for (size_t p = text.size(); p-- > 1;)
    if ((text[p] == ' ' || text[p] == '\n') && visible_before(text, p)) return p;
  return 0;
}

void for_each_chunk(const std::string& path, int64_t begin, int64_t end, size_t chunk_bytes, CutRule rule,
                    const std::function<void(std::string_view, int64_t)>& fn) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  if (std::fseek(f, static_cast<long>(begin), SEEK_SET) != 0) throw std::runtime_error(path + ": cannot seek");
  std::string buf;  // carried-over tail + newly read bytes
  int64_t buf_offset = begin, remaining = end - begin;
  while (remaining > 0 || !buf.empty()) {
    if (remaining > 0) {
      const size_t want = static_cast<size_t>(std::min<int64_t>(remaining, static_cast<int64_t>(chunk_bytes)));
      const size_t old = buf.size();
      buf.resize(old + want);
      const size_t got = std::fread(&buf[old], 1, want, f);
      if (got != want) throw std::runtime_error(path + ": read error or file shrank while reading");
      remaining -= static_cast<int64_t>(got);
    }
    size_t cut = buf.size();
    if (remaining > 0) {
      cut = last_safe_cut(buf, rule);
      if (cut == 0) {
        if (buf.size() < 16 * chunk_bytes) continue;  // read more to find a cut
        cut = utf8::complete_prefix(buf);
        if (cut == 0) cut = buf.size();
      }
    }
    fn(std::string_view(buf.data(), cut), buf_offset);
    buf.erase(0, cut);
    buf_offset += static_cast<int64_t>(cut);
  }
}

}  // namespace tg
