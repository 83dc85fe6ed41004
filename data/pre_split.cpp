// pre_split.cpp — the GPT-2 split pattern through PCRE2 (JIT-compiled once per process).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/pre_split.h"

#include <pcre2.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace tg {
namespace {

// JavaScript's \s: [\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]
// (is_pre_split_space below is the same set).
#define TG_WS "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"
constexpr const char* kPattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" TG_WS "\\p{L}\\p{N}]+|[" TG_WS "]+(?![^" TG_WS
    "])|[" TG_WS "]+";
#undef TG_WS

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

struct Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  Compiled() {
    int err;
    PCRE2_SIZE off;
    // MATCH_INVALID_UTF: invalid byte sequences simply never match (instead of undefined
    // behaviour), which leaves them as gaps between matches for us to emit as byte pieces.
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
    if (!code) throw std::logic_error("gpt2 split pattern: " + pcre2_message(err));
    jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Compiled() { pcre2_code_free(code); }
};

const Compiled& compiled() {
  static const Compiled c;
  return c;
}

// Per-thread match state. The JIT stack is large enough for `\s+(?!\S)` to backtrack over
// whitespace runs of megabytes (the default 32 KiB overflows on a few thousand spaces).
struct MatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* ctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchState() {
    data = pcre2_match_data_create_from_pattern(compiled().code, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~MatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(ctx);
    pcre2_match_data_free(data);
  }
};

}  // namespace

bool is_pre_split_space(char32_t cp) {
  return (cp >= '\t' && cp <= '\r') || cp == ' ' || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

void gpt2_pre_split(std::string_view text, std::vector<std::string_view>* pieces) {
  const Compiled& c = compiled();
  thread_local MatchState state;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    const int rc = pcre2_match(c.code, subject, n, pos, 0, state.data, state.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) {  // only invalid bytes remain
      pieces->push_back(text.substr(pos));
      return;
    }
    if (rc < 0) throw std::runtime_error("gpt2 pre-split: PCRE2 match failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(state.data);
    if (ov[0] > pos) pieces->push_back(text.substr(pos, ov[0] - pos));  // invalid bytes skipped
    // Every alternative consumes at least one character, so ov[1] > ov[0].
    pieces->push_back(text.substr(ov[0], ov[1] - ov[0]));
    pos = ov[1];
  }
}

}  // namespace tg
