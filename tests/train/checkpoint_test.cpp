// HDF5 checkpoints: bit-exact round trip, atomic writes, refusal of bad files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

#include <omp.h>

#include "autograd/parallel.h"
#include "tests/scratch_dir.h"
#include "train/adamw.h"
#include "train/checkpoint.h"

namespace tg {
namespace {
namespace fs = std::filesystem;

GPTConfig small_config() {
  GPTConfig c;
  c.vocab_size = 37;
  c.block_size = 9;
  c.n_layer = 2;
  c.n_head = 3;
  c.n_embd = 12;
  c.attention = "dense,local";
  c.attn_window = 4;
  return c;
}

// A path in this process's scratch directory, removed at exit.
std::string temp_path(const std::string& name) {
  static const test::ScratchDir dir("tapegpt_ckpt_test");
  return dir / name;
}

TEST(Checkpoint, RoundTripIsBitExact) {
  GPT model(small_config());
  model.init_weights(7);
  Checkpoint extras;
  extras.run_config = "n_layer = 2\n";
  extras.tokenizer_json = "{\"kind\": \"char\"}";
  OptimizerState moments;
  moments.step = 5;
  moments.m.assign(model.flat_size(), 0.25f);
  moments.v.assign(model.flat_size(), 0.5f);
  extras.has_state = true;
  extras.state.iteration = 5;
  extras.state.tokens_seen = 1234;
  extras.state.best_val_loss = 2.5;
  extras.state.data_cursor = 77;
  const std::string path = temp_path("roundtrip.h5");
  save_checkpoint(path, model, extras, &moments);
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  auto loaded = load_model(path);
  ASSERT_EQ(loaded->flat_size(), model.flat_size());
  EXPECT_EQ(std::memcmp(loaded->flat_values(), model.flat_values(),
                        sizeof(float) * model.flat_size()),
            0);
  Checkpoint ck = read_checkpoint(path);
  EXPECT_TRUE(ck.has_optimizer);
  OptimizerState read;
  read_optimizer(path, *loaded, &read);
  EXPECT_EQ(ck.config.attention, "dense,local");
  EXPECT_EQ(ck.config.attn_window, 4);
  EXPECT_EQ(ck.run_config, extras.run_config);
  EXPECT_EQ(ck.tokenizer_json, extras.tokenizer_json);
  EXPECT_EQ(read.step, 5);
  EXPECT_EQ(read.m, moments.m);
  EXPECT_EQ(read.v, moments.v);
  EXPECT_EQ(ck.state.tokens_seen, 1234);
  EXPECT_EQ(ck.state.data_cursor, 77u);
  EXPECT_DOUBLE_EQ(ck.state.best_val_loss, 2.5);
}

void expect_refused(const std::string& path, const std::string& word) {
  try {
    load_model(path);
    ADD_FAILURE() << path << " was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, RefusesMissingTruncatedAndForeignFiles) {
  expect_refused(temp_path("does_not_exist.h5"), "cannot open");
  const std::string text = temp_path("not_hdf5.h5");
  std::ofstream(text) << "hello, I am not a checkpoint\n";
  expect_refused(text, "not an HDF5 file");
  const std::string dir = temp_path("a_directory");
  fs::create_directories(dir);
  expect_refused(dir, "is a directory, expected a checkpoint file");

  GPT model(small_config());
  const std::string good = temp_path("good.h5"), cut = temp_path("cut.h5");
  save_checkpoint(good, model, Checkpoint{});
  fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
  fs::resize_file(cut, fs::file_size(good) / 2);
  try {
    load_model(cut);
    ADD_FAILURE() << "truncated file accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, RefusesAModelOfAnotherShape) {
  GPT model(small_config());
  const std::string path = temp_path("shape.h5");
  save_checkpoint(path, model, Checkpoint{});
  GPTConfig other = small_config();
  other.n_embd = 24;
  GPT wrong(other);
  try {
    load_weights(path, wrong);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("transformer.wte.weight has shape [37, 12]"),
              std::string::npos)
        << e.what();
  }
}

TEST(AdamW, MatchesTheTorchFormulaByHand) {
  GPTConfig c = small_config();
  GPT model(c);
  AdamW opt(model, AdamWConfig{0.9f, 0.95f, 1e-8f, 0.1f});
  // Three steps at lr 0.01 with gradients that change (a constant one would hide the betas:
  // its bias-corrected moments are g and g² whatever they are), different per element.
  const float g[3] = {0.5f, -0.2f, 0.05f};
  auto grad = [&](int step, int64_t i) { return g[step] * (1.0f + static_cast<float>(i % 7)); };
  std::vector<float> before(model.flat_values(), model.flat_values() + model.flat_size());
  for (int step = 0; step < 3; step++) {
    for (int64_t i = 0; i < model.flat_size(); i++) model.flat_grads()[i] = grad(step, i);
    opt.step(0.01f);
  }
  // By hand: decoupled decay on matrices only, then the bias-corrected moments.
  auto expected = [&](int64_t i, bool decay) {
    double p = before[i], m = 0, v = 0;
    for (int t = 1; t <= 3; t++) {
      const double gt = grad(t - 1, i);
      if (decay) p *= 1 - 0.01 * 0.1;
      m = 0.9 * m + 0.1 * gt;
      v = 0.95 * v + 0.05 * gt * gt;
      double mhat = m / (1 - std::pow(0.9, t)), vhat = v / (1 - std::pow(0.95, t));
      p -= 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
    }
    return p;
  };
  int64_t at = 0;
  for (auto& [name, t] : model.named_parameters()) {
    const bool decay = t.ndim() >= 2;
    for (int64_t i = at; i < at + std::min<int64_t>(t.numel(), 7); i++)  // every g multiple
      EXPECT_NEAR(model.flat_values()[i], expected(i, decay), 1e-6) << name << " element " << i - at;
    at += t.numel();
  }
}

// Threads split every parameter range at a different element with 1 and 2 threads, so some
// elements move between a vectorised body and a scalar remainder: they must round the same.
TEST(AdamW, SameBitsAtOneAndTwoThreads) {
  GPTConfig c = small_config();
  c.n_embd = 30;  // ranges of 30, 900, 2700 ... floats: not multiples of a vector's width
  c.n_head = 3;
  std::vector<float> result[2];
  for (int threads : {1, 2}) {
    GPT model(c);
    model.init_weights(3);
    ASSERT_GT(model.flat_size(), kParallelMinWork);  // else both runs would be serial
    AdamW opt(model, AdamWConfig{0.9f, 0.95f, 1e-8f, 0.1f});
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    for (int step = 1; step <= 3; step++) {
      for (int64_t i = 0; i < model.flat_size(); i++)
        model.flat_grads()[i] = std::sin(0.37f * static_cast<float>(i) + step);
      opt.step(0.01f);
    }
    omp_set_num_threads(saved);
    result[threads - 1].assign(model.flat_values(), model.flat_values() + model.flat_size());
  }
  ASSERT_EQ(result[0].size(), result[1].size());
  EXPECT_EQ(std::memcmp(result[0].data(), result[1].data(), result[0].size() * sizeof(float)), 0);
}

TEST(ClipGradNorm, NormAndTorchsCoefficient) {
  GPT model(small_config());
  for (int64_t i = 0; i < model.flat_size(); i++) model.flat_grads()[i] = 1.0f;
  const float norm = grad_norm(model);
  EXPECT_NEAR(norm, std::sqrt(static_cast<double>(model.flat_size())), 1e-2);
  EXPECT_NEAR(clip_coefficient(4.0f, 2.0f), 0.5f, 1e-6f);
  EXPECT_LT(clip_coefficient(4.0f, 2.0f), 0.5f);  // torch's + 1e-6
  EXPECT_EQ(clip_coefficient(0.5f, 1.0f), 1.0f);  // below the bound: untouched
  EXPECT_LT(clip_coefficient(1.0f, 1.0f), 1.0f);  // torch's 1e-6 scales a norm at the bound
  EXPECT_EQ(clip_coefficient(norm, 0.0f), 1.0f);  // 0: clipping off
}

// Enough terms for every thread to take a part: the same bits on every call, and the sum
// itself right (terms that differ, so a lost or doubled element would show).
TEST(ClipGradNorm, DeterministicSumOverThreadParts) {
  const int64_t n = 3 * kParallelMinWork + 7;
  auto term = [](int64_t i) { return 1.0 / static_cast<double>(i + 1); };
  const double first = deterministic_sum(n, term), again = deterministic_sum(n, term);
  EXPECT_EQ(std::memcmp(&first, &again, sizeof first), 0);
  long double exact = 0;
  for (int64_t i = n; i >= 1; i--) exact += 1.0L / i;
  EXPECT_NEAR(first, static_cast<double>(exact), 1e-12);
}

// The clipping coefficient is folded into AdamW's pass: the same bits as scaling every
// gradient first (torch's clip_grad_norm_) and stepping with the scaled ones.
TEST(ClipGradNorm, FoldedIntoTheStepAsIfTheGradientsWereScaled) {
  GPT folded(small_config()), scaled(small_config());
  folded.init_weights(5);
  scaled.init_weights(5);
  AdamW opt_folded(folded, AdamWConfig{}), opt_scaled(scaled, AdamWConfig{});
  for (int step = 1; step <= 3; step++) {
    for (int64_t i = 0; i < folded.flat_size(); i++)
      folded.flat_grads()[i] = scaled.flat_grads()[i] = std::cos(0.11f * static_cast<float>(i) * step);
    const float s = clip_coefficient(grad_norm(folded), 1.0f);
    ASSERT_LT(s, 0.1f);  // the clipping is real
    for (int64_t i = 0; i < scaled.flat_size(); i++) scaled.flat_grads()[i] *= s;
    opt_folded.step(0.01f, s);
    opt_scaled.step(0.01f);
  }
  EXPECT_EQ(std::memcmp(folded.flat_values(), scaled.flat_values(), folded.flat_size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(opt_folded.state().m.data(), opt_scaled.state().m.data(),
                        folded.flat_size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(opt_folded.state().v.data(), opt_scaled.state().v.data(),
                        folded.flat_size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace tg

#include <hdf5.h>

namespace tg {
namespace {

// A checkpoint of small_config() saved at `path`, opened for editing (negative if that failed).
hid_t saved_checkpoint_to_edit(const std::string& path) {
  save_checkpoint(path, GPT(small_config()), Checkpoint{});
  return H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
}

TEST(Checkpoint, RefusesAFileWithoutTheConfigGroup) {
  const std::string path = temp_path("no_config.h5");
  hid_t file = saved_checkpoint_to_edit(path);
  ASSERT_GE(file, 0);
  H5Ldelete(file, "config", H5P_DEFAULT);
  H5Fclose(file);
  expect_refused(path, "missing group /config");
}

// A damaged size in the config is caught against the stored weights before anything is sized
// from it (a block_size of 10^9 was a std::bad_alloc); integers stored as weights are refused.
TEST(Checkpoint, RefusesAConfigThatDoesNotDescribeItsWeights) {
  const std::string path = temp_path("huge_block.h5");
  hid_t file = saved_checkpoint_to_edit(path);
  ASSERT_GE(file, 0);
  ASSERT_GE(H5Adelete_by_name(file, "config", "block_size", H5P_DEFAULT), 0);
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate_by_name(file, "config", "block_size", H5T_STD_I64LE, scalar,
                                 H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  const int64_t huge = 1000000000;
  ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT64, &huge), 0);
  H5Aclose(attr);
  H5Sclose(scalar);
  H5Fclose(file);
  expect_refused(path, "transformer.wpe.weight has shape");

  const std::string ints = temp_path("int_weights.h5");
  file = saved_checkpoint_to_edit(ints);
  ASSERT_GE(file, 0);
  const std::string name = "/model/transformer.ln_f.weight";
  H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  const hsize_t dims[1] = {static_cast<hsize_t>(small_config().n_embd)};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  hid_t set = H5Dcreate2(file, name.c_str(), H5T_NATIVE_INT32, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
  std::vector<int32_t> ones(dims[0], 1);
  H5Dwrite(set, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ones.data());
  H5Dclose(set);
  H5Sclose(space);
  H5Fclose(file);
  expect_refused(ints, "does not hold floating-point numbers");
}

// Another tool may store a config value as an array (h5py: attrs['n_layer'] = [2, 2]); one value
// is read from each attribute, so an array is refused by name, not read past its one slot.
TEST(Checkpoint, RefusesAnAttributeHoldingAnArray) {
  struct Case {
    const char* name;
    hid_t file_type, mem_type;
  };
  hid_t strings = H5Tcopy(H5T_C_S1);  // variable-length UTF-8, as the checkpoint writes
  H5Tset_size(strings, H5T_VARIABLE);
  H5Tset_cset(strings, H5T_CSET_UTF8);
  for (const Case& c : {Case{"n_layer", H5T_STD_I64LE, H5T_NATIVE_INT64},
                        Case{"attention", strings, strings}}) {
    const std::string path = temp_path(std::string("array_") + c.name + ".h5");
    hid_t file = saved_checkpoint_to_edit(path);
    ASSERT_GE(file, 0);
    ASSERT_GE(H5Adelete_by_name(file, "config", c.name, H5P_DEFAULT), 0);
    const hsize_t two[1] = {2};
    hid_t space = H5Screate_simple(1, two, nullptr);
    hid_t attr = H5Acreate_by_name(file, "config", c.name, c.file_type, space, H5P_DEFAULT,
                                   H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(attr, 0);
    const int64_t numbers[2] = {2, 2};
    const char* texts[2] = {"dense", "local"};
    ASSERT_GE(H5Awrite(attr, c.mem_type, c.mem_type == strings ? static_cast<const void*>(texts)
                                                                : static_cast<const void*>(numbers)),
              0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Fclose(file);
    expect_refused(path, std::string("attribute config/") + c.name + " holds 2 values, expected one");
  }
  H5Tclose(strings);
}

// A file written to DESIGN's config group by another tool loads: no dropout (a training choice)
// or run_config attribute, and strings of fixed length (h5py's np.bytes_) rather than variable.
TEST(Checkpoint, ReadsTheConfigGroupAsDesignListsIt) {
  const std::string path = temp_path("foreign_config.h5");
  hid_t file = saved_checkpoint_to_edit(path);
  ASSERT_GE(file, 0);
  for (const char* name : {"dropout", "run_config", "attention"})
    ASSERT_GE(H5Adelete_by_name(file, "config", name, H5P_DEFAULT), 0);
  hid_t fixed = H5Tcopy(H5T_C_S1);
  H5Tset_size(fixed, 5);  // "dense" exactly, no terminator (h5py's np.bytes_)
  H5Tset_strpad(fixed, H5T_STR_NULLPAD);
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate_by_name(file, "config", "attention", fixed, scalar, H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  const char text[6] = "dense";
  ASSERT_GE(H5Awrite(attr, fixed, text), 0);
  H5Aclose(attr);
  H5Sclose(scalar);
  H5Tclose(fixed);
  H5Fclose(file);
  const Checkpoint ck = read_checkpoint(path);
  EXPECT_EQ(ck.config.attention, "dense");
  EXPECT_EQ(ck.config.dropout, 0.0f);
  EXPECT_EQ(ck.run_config, "");
  EXPECT_NO_THROW(load_model(path));
}

// Replaces group/name in `file` by one value stored as `file_type`.
void replace_attr(hid_t file, const char* group, const char* name, hid_t file_type,
                  hid_t mem_type, const void* value) {
  ASSERT_GE(H5Adelete_by_name(file, group, name, H5P_DEFAULT), 0);
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate_by_name(file, group, name, file_type, scalar, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  ASSERT_GE(H5Awrite(attr, mem_type, value), 0);
  H5Aclose(attr);
  H5Sclose(scalar);
}

// Numbers are read as the kind they were stored as: HDF5's own conversion turned a data_cursor
// of -1 into 0, a float n_layer into a truncated integer, 2^63 into INT64_MAX, without a word.
TEST(Checkpoint, RefusesAttributesOutOfTheirRange) {
  Checkpoint extras;
  extras.has_state = true;
  extras.state.iteration = 5;
  const int64_t minus_one = -1;
  const uint64_t two_to_63 = uint64_t{1} << 63;
  const double two_and_a_half = 2.5, nan = std::nan(""), minus_inf = -INFINITY;
  struct Case {
    const char *group, *name;
    hid_t file_type, mem_type;
    const void* value;
    const char* message;
  };
  for (const Case& c :
       {Case{"state", "data_cursor", H5T_STD_I64LE, H5T_NATIVE_INT64, &minus_one,
             "attribute state/data_cursor is -1, negative"},
        Case{"state", "iteration", H5T_STD_U64LE, H5T_NATIVE_UINT64, &two_to_63,
             "attribute state/iteration is 9223372036854775808, out of range"},
        Case{"config", "n_layer", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &two_and_a_half,
             "attribute config/n_layer is not an integer"},
        Case{"config", "bias", H5T_STD_I64LE, H5T_NATIVE_INT64, &minus_one,
             "config/bias is -1, expected 0 or 1"},
        Case{"state", "tokens_seen", H5T_STD_I64LE, H5T_NATIVE_INT64, &minus_one,
             "state: tokens_seen -1 is negative"},
        Case{"state", "best_val_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan,
             "state: best_val_loss nan is not a loss"},
        Case{"state", "best_val_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &minus_inf,
             "state: best_val_loss -inf is not a loss"}}) {
    const std::string path = temp_path(std::string("range_") + c.name + ".h5");
    SCOPED_TRACE(c.message);
    save_checkpoint(path, GPT(small_config()), extras);
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    replace_attr(file, c.group, c.name, c.file_type, c.mem_type, c.value);
    H5Fclose(file);
    expect_refused(path, c.message);
  }
  // A bool as h5py writes one (an enum over int8: FALSE 0, TRUE 1) is read as its number.
  {
    const std::string path = temp_path("range_enum.h5");
    save_checkpoint(path, GPT(small_config()), extras);
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    hid_t boolean = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t no = 0, yes = 1;
    H5Tenum_insert(boolean, "FALSE", &no);
    H5Tenum_insert(boolean, "TRUE", &yes);
    replace_attr(file, "config", "bias", boolean, boolean, &yes);
    H5Tclose(boolean);
    H5Fclose(file);
    EXPECT_TRUE(read_checkpoint(path).config.bias);
    EXPECT_NO_THROW(load_model(path));
  }
  // An unsigned count that fits is read as it was written.
  const std::string path = temp_path("range_ok.h5");
  save_checkpoint(path, GPT(small_config()), extras);
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const uint64_t seven = 7;
  replace_attr(file, "state", "iteration", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seven);
  H5Fclose(file);
  EXPECT_EQ(read_checkpoint(path).state.iteration, 7);
}

// AdamW's moments are checked as the weights are: m finite, v (a mean of squares) finite and
// not below 0. A damaged one surfaced steps later as "training diverged (lower learning_rate?)".
TEST(Checkpoint, RefusesMomentsNoAdamWCouldHaveMade) {
  GPT model(small_config());
  const float nan = std::nanf("");
  for (const auto& [m, v, says] : {std::tuple{0.0f, -1.0f, "optimizer/v/transformer.wte.weight holds NaN, Inf or negative"},
                                  std::tuple{0.0f, nan, "optimizer/v/transformer.wte.weight holds NaN, Inf or negative"},
                                  std::tuple{INFINITY, 0.0f, "optimizer/m/transformer.wte.weight holds NaN or Inf"}}) {
    OptimizerState moments;
    moments.m.assign(model.flat_size(), 0.0f);
    moments.v.assign(model.flat_size(), 0.0f);
    moments.m[3] = m;  // in wte, the first parameter
    moments.v[3] = v;
    const std::string path = temp_path("moments.h5");
    save_checkpoint(path, model, Checkpoint{}, &moments);
    OptimizerState read;
    try {
      read_optimizer(path, model, &read);
      ADD_FAILURE() << "m " << m << ", v " << v << " accepted";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  }
}

// A float dataset in group /model: `values` under `name`.
void write_model_dataset(hid_t file, const std::string& name, const std::vector<float>& values,
                         std::vector<hsize_t> dims) {
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t set = H5Dcreate2(file, ("/model/" + name).c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(set, 0);
  ASSERT_GE(H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
  H5Dclose(set);
  H5Sclose(space);
}

// Weights the config has no place for, and an output head that is not wte, are refused: loading
// the rest would silently give another model. A head stored as a copy of wte (a torch
// state_dict saved key by key) loads.
TEST(Checkpoint, RefusesWeightsTheConfigDoesNotDescribe) {
  const GPTConfig c = small_config();
  const std::string extra = temp_path("extra.h5");
  hid_t file = saved_checkpoint_to_edit(extra);
  ASSERT_GE(file, 0);
  write_model_dataset(file, "transformer.h.0.attn.bias_extra", std::vector<float>(4, 1.0f), {4});
  H5Fclose(file);
  expect_refused(extra, "model/transformer.h.0.attn.bias_extra is not a weight of the model");
  // torch's causal-mask buffers in a state_dict (nanoGPT without flash attention, Hugging Face)
  // are not weights: skipped.
  const std::string mask = temp_path("mask.h5");
  file = saved_checkpoint_to_edit(mask);
  ASSERT_GE(file, 0);
  const hsize_t T = static_cast<hsize_t>(c.block_size);
  write_model_dataset(file, "transformer.h.1.attn.bias", std::vector<float>(T * T, 1.0f), {1, 1, T, T});
  write_model_dataset(file, "transformer.h.1.attn.masked_bias", {-1e4f}, {1});
  H5Fclose(file);
  EXPECT_NO_THROW(load_model(mask));

  GPT reference(c);
  const std::vector<float> wte(reference.wte.weight.data(),
                               reference.wte.weight.data() + reference.wte.weight.numel());
  const std::vector<hsize_t> dims = {static_cast<hsize_t>(c.vocab_size), static_cast<hsize_t>(c.n_embd)};
  const std::string copy = temp_path("head_copy.h5");
  file = saved_checkpoint_to_edit(copy);
  ASSERT_GE(file, 0);
  H5Ldelete(file, "/model/lm_head.weight", H5P_DEFAULT);
  write_model_dataset(file, "lm_head.weight", wte, dims);
  H5Fclose(file);
  EXPECT_NO_THROW(load_model(copy));

  const std::string own = temp_path("head_own.h5");
  file = saved_checkpoint_to_edit(own);
  ASSERT_GE(file, 0);
  H5Ldelete(file, "/model/lm_head.weight", H5P_DEFAULT);
  std::vector<float> other = wte;
  other[5] += 1.0f;
  write_model_dataset(file, "lm_head.weight", other, dims);
  H5Fclose(file);
  expect_refused(own, "model/lm_head.weight differs from model/transformer.wte.weight");
}

}  // namespace
}  // namespace tg
