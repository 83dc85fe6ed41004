// prepare.cpp — see prepare.h.
#include "data/prepare.h"

#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "data/bpe_tokenizer.h"
#include "data/bpe_trainer.h"
#include "data/char_tokenizer.h"
#include "data/corpus_reader.h"
#include "data/file_util.h"
#include "data/gpt2_tokenizer.h"
#include "data/json.h"
#include "data/token_file.h"

namespace tg {
namespace {

struct Source {
  std::string path;
  int64_t bytes = 0;
  int64_t start = 0;  // offset of its first byte in the concatenated corpus
};

// Reads one byte of a file (split search only touches a few bytes around the target).
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb")) {
    if (!f_) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  ~ByteReader() { std::fclose(f_); }
  // Offset of the first '\n' in [from, to), or -1.
  int64_t find_newline_forward(int64_t from, int64_t to) {
    char buf[1 << 16];
    std::fseek(f_, static_cast<long>(from), SEEK_SET);
    for (int64_t pos = from; pos < to;) {
      const size_t want = static_cast<size_t>(std::min<int64_t>(sizeof buf, to - pos));
      if (std::fread(buf, 1, want, f_) != want) throw std::runtime_error(path_ + ": read error");
      if (const void* nl = std::memchr(buf, '\n', want)) return pos + (static_cast<const char*>(nl) - buf);
      pos += static_cast<int64_t>(want);
    }
    return -1;
  }
  // Offset of the last '\n' in [from, to), or -1.
  int64_t find_newline_backward(int64_t from, int64_t to) {
    char buf[1 << 16];
    for (int64_t hi = to; hi > from;) {
      const int64_t lo = std::max<int64_t>(from, hi - static_cast<int64_t>(sizeof buf));
      std::fseek(f_, static_cast<long>(lo), SEEK_SET);
      const auto want = static_cast<size_t>(hi - lo);
      if (std::fread(buf, 1, want, f_) != want) throw std::runtime_error(path_ + ": read error");
      for (size_t k = want; k-- > 0;)
        if (buf[k] == '\n') return lo + static_cast<int64_t>(k);
      hi = lo;
    }
    return -1;
  }

 private:
  std::string path_;
  std::FILE* f_;
};

// The split point: a line start or file start s with 0 < s < total (see prepare.h).
int64_t find_split(const std::vector<Source>& srcs, int64_t total, double val_fraction) {
  if (val_fraction <= 0) return total;
  const auto target = static_cast<int64_t>(static_cast<double>(total) * (1.0 - val_fraction));
  // Forward: the first boundary at or after target.
  for (const Source& s : srcs) {
    const int64_t end = s.start + s.bytes;
    if (end <= target || s.bytes == 0) continue;
    if (s.start >= target && s.start > 0) return s.start;  // a file start is a boundary
    const int64_t from = std::max<int64_t>(0, target - s.start - 1);  // a '\n' at target-1 starts a line at target
    const int64_t nl = ByteReader(s.path).find_newline_forward(from, s.bytes);
    if (nl >= 0 && s.start + nl + 1 < total) return s.start + nl + 1;
    if (end < total) return end;  // the next file starts a line
  }
  // Backward: the last boundary before target.
  for (auto it = srcs.rbegin(); it != srcs.rend(); ++it) {
    const Source& s = *it;
    if (s.start >= target || s.bytes == 0) continue;
    const int64_t to = std::min<int64_t>(s.bytes, target - s.start);
    const int64_t nl = ByteReader(s.path).find_newline_backward(0, to);
    if (nl >= 0 && s.start + nl + 1 < total) return s.start + nl + 1;
    if (s.start > 0) return s.start;
  }
  throw std::runtime_error("cannot split off a validation set at a line boundary: the corpus (" +
                           std::to_string(total) + " bytes) has no line break before its end; add line breaks or pass --val_fraction 0");
}

// Encodes [begin, end) of every source (in corpus coordinates) into writer, several chunks at a
// time in parallel; output order is the text order.
void encode_range(const std::vector<Source>& srcs, int64_t begin, int64_t end, const Tokenizer& tok, CutRule rule,
                  size_t chunk_bytes, TokenFileWriter* writer) {
  const int threads = std::max(1, omp_get_max_threads());
  std::vector<std::string> batch;
  std::vector<int64_t> batch_offsets;  // where each chunk starts in its file
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::string> errors;
  auto flush = [&] {
    ids.resize(batch.size());
    errors.assign(batch.size(), std::string());
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t k = 0; k < static_cast<int64_t>(batch.size()); ++k) {
      try {
        ids[k] = tok.encode(batch[k]);
      } catch (const EncodeError& e) {  // the offset in the file, not in the chunk
        errors[k] = e.message_from(batch_offsets[k]);
      } catch (const std::exception& e) {  // exceptions must not leave an OpenMP region
        errors[k] = e.what();
      }
    }
    for (size_t k = 0; k < batch.size(); ++k) {
      if (!errors[k].empty()) throw std::runtime_error(errors[k]);
      writer->append(ids[k]);
    }
    batch.clear();
    batch_offsets.clear();
  };
  for (const Source& s : srcs) {
    const int64_t b = std::max(begin, s.start) - s.start, e = std::min(end, s.start + s.bytes) - s.start;
    if (b >= e) continue;
    try {
      for_each_chunk(s.path, b, e, chunk_bytes, rule, [&](std::string_view chunk, int64_t at) {
        batch.emplace_back(chunk);
        batch_offsets.push_back(at);
        if (static_cast<int>(batch.size()) >= 2 * threads) flush();
      });
      flush();  // per file, so an error names this file
    } catch (const std::exception& ex) {
      const std::string what = ex.what();
      if (what.rfind(s.path, 0) == 0) throw;
      throw std::runtime_error(s.path + ": " + what);
    }
  }
}

// The output directory and any missing parents (data_cache/ does not exist in a fresh clone).
// True when the directory itself is new.
bool make_dir(const std::string& dir) {
  std::error_code error;  // none when dir already exists
  const bool existed = std::filesystem::is_directory(dir, error);
  std::filesystem::create_directories(dir, error);
  if (error)
    throw std::runtime_error(dir + ": cannot create output directory (" + error.message() + ")");
  return !existed;
}

// A directory prepare made for its output goes again if prepare fails, so a failed run leaves
// nothing behind. Declared before the token writers, it is destroyed after them, once they
// have removed their .tmp files; a directory that is not empty then stays.
struct RemoveNewDirUnlessKept {
  std::string dir;
  bool remove;
  ~RemoveNewDirUnlessKept() {
    std::error_code ignored;
    if (remove) std::filesystem::remove(dir, ignored);  // only ever an empty directory
  }
};

}  // namespace

PrepareResult prepare_corpus(const PrepareOptions& opt, std::ostream* log) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.inputs.empty()) throw std::invalid_argument("prepare: no input files");
  if (opt.out_dir.empty()) throw std::invalid_argument("prepare: no output directory");
  if (!(opt.val_fraction >= 0 && opt.val_fraction < 1))
    throw std::invalid_argument("prepare: val_fraction must be in [0, 1), got " + std::to_string(opt.val_fraction));

  std::vector<Source> srcs;
  int64_t total = 0;
  for (const std::string& p : opt.inputs) {
    Source s{p, file_size(p), total};
    // The new files replace what out holds: an input among them would be lost.
    for (const char* written : {"train.bin", "val.bin", "tokenizer.json", "meta.json"}) {
      std::error_code ec;
      if (std::filesystem::equivalent(p, std::filesystem::path(opt.out_dir) / written, ec))
        throw std::invalid_argument("prepare: input " + p + " is the " + written + " that --out " +
                                    opt.out_dir + " gets: it would be replaced (write elsewhere)");
    }
    total += s.bytes;
    srcs.push_back(s);
  }
  if (total == 0) {
    std::string names;
    for (const auto& p : opt.inputs) names += (names.empty() ? "" : ", ") + p;
    throw std::runtime_error("empty corpus: " + names + (opt.inputs.size() > 1 ? " contain" : " contains") + " no text");
  }
  const int64_t split = find_split(srcs, total, opt.val_fraction);

  // ---- the tokenizer
  std::unique_ptr<Tokenizer> tok;
  CutRule rule = CutRule::kPreSplit;
  if (opt.tokenizer == "char") {
    rule = CutRule::kCodePoint;
    CharSetBuilder chars;
    for (const Source& s : srcs) {
      chars.reset_position();
      for_each_chunk(s.path, 0, s.bytes, opt.chunk_bytes, rule, [&](std::string_view c, int64_t) { chars.add(c, s.path); });
    }
    tok = std::make_unique<CharTokenizer>(chars.chars());
  } else if (opt.tokenizer == "bpe") {
    if (opt.vocab_size < 257)
      throw std::invalid_argument("prepare: --vocab_size must be at least 257 for the bpe tokenizer, got " +
                                  std::to_string(opt.vocab_size));
    BpeWordCounter counter;
    const int64_t sample_end = std::min(split, opt.bpe_sample_bytes);
    for (const Source& s : srcs) {
      if (s.start >= sample_end) break;  // the sample is full (an empty file is not the end)
      const int64_t e = std::min(s.bytes, sample_end - s.start);
      for_each_chunk(s.path, 0, e, opt.chunk_bytes, rule, [&](std::string_view c, int64_t) { counter.add(c); });
    }
    const auto t_train = std::chrono::steady_clock::now();
    auto bpe = std::make_unique<BpeTokenizer>(BpeTokenizer::train(counter.counts(), opt.vocab_size));
    if (log)
      *log << "prepare: bpe trained on " << counter.bytes() << " bytes (" << counter.counts().size()
           << " distinct words): vocab " << bpe->vocab_size() << " (asked " << opt.vocab_size << ") in "
           << std::chrono::duration<double>(std::chrono::steady_clock::now() - t_train).count() << " s\n";
    tok = std::move(bpe);
  } else if (opt.tokenizer == "gpt2") {
    if (opt.gpt2_dir.empty()) throw std::invalid_argument("prepare: the gpt2 tokenizer needs --gpt2_dir (with encoder.json and vocab.bpe)");
    tok = std::make_unique<Gpt2Tokenizer>(Gpt2Tokenizer::from_dir(opt.gpt2_dir));
  } else if (!opt.tokenizer_json.empty() || std::filesystem::exists(opt.tokenizer)) {
    // An existing tokenizer: the data gets its ids, so it fits a model trained with it.
    tok = !opt.tokenizer_json.empty() ? tokenizer_from_json(opt.tokenizer_json, opt.tokenizer)
                                      : load_tokenizer(opt.tokenizer);
    if (tok->kind() == "char") rule = CutRule::kCodePoint;
  } else {
    throw std::invalid_argument("prepare: unknown tokenizer \"" + opt.tokenizer +
                                "\" (expected char, bpe, gpt2, or an existing tokenizer.json or checkpoint)");
  }

  // ---- encode and write
  // All four files are written in full as .tmp files first, and only then renamed over the
  // previous dataset's: a failure (a full disk, a bad byte late in the corpus) leaves the old
  // dataset whole, not a new train.bin beside the old tokenizer.
  RemoveNewDirUnlessKept new_dir{opt.out_dir, make_dir(opt.out_dir)};
  PrepareResult r;
  r.vocab_size = tok->vocab_size();
  const std::string tokenizer_path = opt.out_dir + "/tokenizer.json", meta_path = opt.out_dir + "/meta.json";
  TokenFileWriter train(opt.out_dir + "/train.bin", r.vocab_size);
  TokenFileWriter val(opt.out_dir + "/val.bin", r.vocab_size);
  try {
    encode_range(srcs, 0, split, *tok, rule, opt.chunk_bytes, &train);
    train.close();
    r.train_tokens = train.count();
    encode_range(srcs, split, total, *tok, rule, opt.chunk_bytes, &val);
    val.close();
    r.val_tokens = val.count();
    r.train_bytes = split;
    r.val_bytes = total - split;
    save_tokenizer(*tok, tokenizer_path + ".tmp");
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    Json sources{Json::Array{}};
    for (const Source& s : srcs) {
      Json j;
      j.set("path", s.path);
      j.set("bytes", s.bytes);
      sources.push_back(std::move(j));
    }
    Json meta;
    meta.set("tokenizer", tok->kind());
    meta.set("vocab_size", r.vocab_size);
    meta.set("eot_id", tok->eot_id());
    meta.set("bytes_per_token", bytes_per_token_for(r.vocab_size));
    meta.set("train_tokens", r.train_tokens);
    meta.set("val_tokens", r.val_tokens);
    meta.set("train_bytes", r.train_bytes);
    meta.set("val_bytes", r.val_bytes);
    meta.set("val_fraction", opt.val_fraction);
    if (opt.tokenizer == "bpe") meta.set("bpe_sample_bytes", std::min(split, opt.bpe_sample_bytes));
    meta.set("sources", std::move(sources));
    write_file_atomic(meta_path + ".tmp", meta.dump() + "\n");
  } catch (...) {
    std::remove((tokenizer_path + ".tmp").c_str());
    std::remove((meta_path + ".tmp").c_str());
    throw;  // the token writers remove their own
  }
  try {  // meta.json last: a dataset with it is complete
    train.commit();
    val.commit();
    rename_file(tokenizer_path + ".tmp", tokenizer_path);
    rename_file(meta_path + ".tmp", meta_path);
  } catch (...) {  // (a rename in one directory failing: rare, but leave no .tmp behind)
    std::remove((tokenizer_path + ".tmp").c_str());
    std::remove((meta_path + ".tmp").c_str());
    throw;
  }
  new_dir.remove = false;
  if (log) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "prepare: %s vocab %lld: train %lld tokens (%lld bytes), val %lld tokens (%lld bytes) in %.2f s\n",
                  tok->kind().c_str(), static_cast<long long>(r.vocab_size), static_cast<long long>(r.train_tokens),
                  static_cast<long long>(r.train_bytes), static_cast<long long>(r.val_tokens),
                  static_cast<long long>(r.val_bytes), r.seconds);
    *log << line;
  }
  return r;
}

}  // namespace tg
