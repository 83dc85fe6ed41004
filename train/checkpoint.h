// checkpoint.h — GPT checkpoints in HDF5 (the layout below; readable with h5py).
//
//   /model/<state_dict key>   float32, torch shapes; lm_head.weight is a hard link to wte's
//   /config                   one attribute per GPTConfig field + "run_config" (resolved TOML)
//   /tokenizer                attribute "json": the tokenizer, exactly (when known)
//   /optimizer                m/<name>, v/<name>, attribute "step" (training checkpoints)
//   /state                    iteration, tokens seen, best val loss, RNG and data positions
//
// Files are written to "<path>.tmp", flushed, fsync'ed and renamed over <path>: a crash while
// saving leaves the previous checkpoint as it was.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "autograd/huge_page_allocator.h"
#include "data/tokenizer.h"
#include "nn/gpt.h"

namespace tg {

// Where a training run stands: what `--resume` needs to continue bit for bit.
struct TrainState {
  int64_t iteration = 0;    // optimizer steps taken
  int64_t tokens_seen = 0;  // training tokens consumed
  double best_val_loss = std::numeric_limits<double>::infinity();
  uint64_t dropout_seed = 0, dropout_offset = 0;       // the model's dropout Rng
  uint64_t data_seed = 0, data_epoch = 0, data_cursor = 0;  // the training batch stream
  double elapsed_s = 0.0;  // wall-clock seconds of training so far, over every resume
};

// AdamW moments, flat, in the model's named_parameters() order (stored per name).
struct OptimizerState {
  int64_t step = 0;
  std::vector<float, HugePageAllocator<float>> m, v;  // on huge pages, as the parameters
};

struct Checkpoint {
  GPTConfig config;
  std::string run_config;      // resolved run config (TOML text), may be empty
  std::string tokenizer_json;  // may be empty
  bool has_optimizer = false;  // the file holds AdamW moments (read_optimizer reads them)
  bool has_state = false;
  TrainState state;
};

// Saves the model's weights plus whatever `extras` holds (config is taken from the model), and
// the AdamW moments when `optimizer` is given: written from where they are, since a copy would
// hold another 2 floats per parameter (1 GB for GPT-2) for the length of the write.
void save_checkpoint(const std::string& path, const GPT& model, const Checkpoint& extras,
                     const OptimizerState* optimizer = nullptr);

// Reads everything but the weights and the AdamW moments: the small part, enough to build the
// model to load into.
Checkpoint read_checkpoint(const std::string& path);

// Reads the AdamW moments into `into` (sized to the model), in `model`'s flat order (its
// parameters give names and shapes): into the optimizer's own buffers, not beside them.
void read_optimizer(const std::string& path, const GPT& model, OptimizerState* into);

// Loads the weights into a model whose config must match the file's: an error names the first
// parameter whose shape differs or that is missing, a weight the model has no place for (torch's
// attention-mask buffers attn.bias / attn.masked_bias are skipped), or an lm_head.weight that is
// not wte's values (weight tying).
void load_weights(const std::string& path, GPT& model);

// The tokenizer stored in the checkpoint at `path`; throws naming the file when there is none or
// when it has more tokens than the model's vocab_size.
std::unique_ptr<Tokenizer> checkpoint_tokenizer(const Checkpoint& ck, const std::string& path);

// Whether path names a checkpoint: a readable HDF5 file (by its signature, whatever its name),
// or a file named .h5 (a damaged one then gets the checkpoint reader's error, not the JSON
// parser's).
bool names_a_checkpoint(const std::string& path);

// The tokenizer a --tokenizer option names: a checkpoint's own (names_a_checkpoint), else
// load_tokenizer's (a tokenizer.json, a prepared dataset's directory, or GPT-2's encoder.json
// and vocab.bpe).
std::unique_ptr<Tokenizer> tokenizer_named_by(const std::string& path);

// Throws when the dataset directory's tokenizer.json gives the ids other meanings than
// `tokenizer`, the one checkpoint `checkpoint` was trained with: its token files would be read
// as other text. Nothing to check when the directory has no tokenizer.json.
void require_same_tokenizer(const std::string& dataset_dir, const Tokenizer& tokenizer,
                            const std::string& checkpoint);

// Builds the model the checkpoint describes and loads its weights.
std::unique_ptr<GPT> load_model(const std::string& path);

// Whether x[0..n) holds no NaN or Inf: what a checkpoint's weights and moments must be.
bool all_finite(const float* x, int64_t n);

}  // namespace tg
