#include "train/checkpoint.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <type_traits>

#include "data/file_util.h"

namespace tg {
namespace {

// One-line errors, ours: HDF5's own stack printing is switched off once. And no cleanup at
// exit: a file whose flush failed (a full disk) stays half-open inside HDF5, and the library's
// exit handler crashed closing it again. Every file we open is closed by its Handle.
void quiet_hdf5() {
  static bool done = [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

// Owns an HDF5 handle and closes it with the right function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }
  herr_t close() {  // now, with its status (the destructor cannot report one)
    const herr_t status = id_ >= 0 ? close_(id_) : 0;
    id_ = -1;
    return status;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// ---- writing ----
void write_floats(hid_t group, const std::string& name, const float* data, const Shape& shape,
                  const std::string& path) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle set(H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Dclose);
  if (!set.ok() || H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(path, "cannot write dataset " + name);
}

void write_attr_scalar(hid_t obj, const char* name, hid_t file_type, hid_t mem_type,
                       const void* value, const std::string& path) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok() || H5Awrite(attr, mem_type, value) < 0)
    fail(path, std::string("cannot write attribute ") + name);
}
void write_attr(hid_t obj, const char* name, int64_t v, const std::string& path) {
  write_attr_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, path);
}
void write_attr_u64(hid_t obj, const char* name, uint64_t v, const std::string& path) {
  write_attr_scalar(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, path);
}
void write_attr(hid_t obj, const char* name, double v, const std::string& path) {
  write_attr_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, path);
}
void write_attr(hid_t obj, const char* name, const std::string& v, const std::string& path) {
  // Variable-length UTF-8: h5py reads it back as a Python str.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const char* text = v.c_str();
  write_attr_scalar(obj, name, type, type, &text, path);
}

// ---- reading ----
bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

// The attribute, which must exist and hold one value: H5Aread writes the whole dataspace, so an
// array (another tool's file) read into one value would write past it.
Handle open_single_attr(hid_t obj, const char* name, const std::string& path,
                        const std::string& where) {
  if (!has_attr(obj, name)) fail(path, "missing attribute " + where + "/" + name);
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) fail(path, "cannot open attribute " + where + "/" + name);
  Handle space(H5Aget_space(attr), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if (count != 1)
    fail(path, "attribute " + where + "/" + name + " holds " + std::to_string(count) +
                   " values, expected one");
  return attr;
}

// A number attribute, read as the kind it was stored as. HDF5's conversions would otherwise
// clamp without a word: a negative count to 0 as unsigned, 2^63 to INT64_MAX as signed, and a
// float to an integer by truncation.
template <typename T>
T read_attr_num(hid_t obj, const char* name, const std::string& path, const std::string& where) {
  const std::string attr_name = where + "/" + name;
  Handle attr = open_single_attr(obj, name, path, where);
  Handle type(H5Aget_type(attr), H5Tclose);
  const H5T_class_t kind = H5Tget_class(type);
  auto read = [&](hid_t mem_type, void* into) {
    if (H5Aread(attr, mem_type, into) < 0) fail(path, "cannot read attribute " + attr_name);
  };
  if constexpr (std::is_floating_point_v<T>) {
    if (kind != H5T_FLOAT && kind != H5T_INTEGER) fail(path, "attribute " + attr_name + " is not a number");
    double v = 0;
    read(H5T_NATIVE_DOUBLE, &v);
    return v;
  } else {
    // (h5py stores a Python bool as an enum over an integer: FALSE = 0, TRUE = 1)
    if (kind != H5T_INTEGER && kind != H5T_ENUM) fail(path, "attribute " + attr_name + " is not an integer");
    Handle base(kind == H5T_ENUM ? H5Tget_super(type) : H5Tcopy(type), H5Tclose);
    if (H5Tget_class(base) != H5T_INTEGER) fail(path, "attribute " + attr_name + " is not an integer");
    if (H5Tget_sign(base) == H5T_SGN_NONE) {
      uint64_t v = 0;
      read(H5T_NATIVE_UINT64, &v);
      if (std::is_signed_v<T> && v > static_cast<uint64_t>(INT64_MAX))
        fail(path, "attribute " + attr_name + " is " + std::to_string(v) + ", out of range");
      return static_cast<T>(v);
    }
    int64_t v = 0;
    read(H5T_NATIVE_INT64, &v);
    if (!std::is_signed_v<T> && v < 0)
      fail(path, "attribute " + attr_name + " is " + std::to_string(v) + ", negative");
    return static_cast<T>(v);
  }
}
int64_t read_i64(hid_t o, const char* n, const std::string& p, const std::string& w) {
  return read_attr_num<int64_t>(o, n, p, w);
}
uint64_t read_u64(hid_t o, const char* n, const std::string& p, const std::string& w) {
  return read_attr_num<uint64_t>(o, n, p, w);
}
double read_f64(hid_t o, const char* n, const std::string& p, const std::string& w) {
  return read_attr_num<double>(o, n, p, w);
}
std::string read_str(hid_t obj, const char* name, const std::string& path,
                     const std::string& where) {
  Handle attr = open_single_attr(obj, name, path, where);
  Handle type(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING) fail(path, "attribute " + where + "/" + name + " is not a string");
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mem, H5Tget_cset(type));
  if (H5Tis_variable_str(type) <= 0) {  // fixed length (h5py's np.bytes_): padded with NULs
    const size_t size = H5Tget_size(type);
    std::string out(size, '\0');
    H5Tset_size(mem, size);
    H5Tset_strpad(mem, H5T_STR_NULLPAD);  // a full-length string has no terminator to keep
    if (size == 0 || H5Aread(attr, mem, out.data()) < 0)
      fail(path, "cannot read attribute " + where + "/" + name);
    out.resize(out.find('\0') == std::string::npos ? size : out.find('\0'));
    return out;
  }
  H5Tset_size(mem, H5T_VARIABLE);
  char* text = nullptr;
  if (H5Aread(attr, mem, &text) < 0 || !text) fail(path, "cannot read attribute " + where + "/" + name);
  std::string out(text);
  H5free_memory(text);
  return out;
}

// The dataset group/name, which must exist, hold floating-point numbers and have `shape`.
Handle open_floats(hid_t group, const std::string& name, const Shape& shape,
                   const std::string& path, const std::string& where) {
  if (H5Lexists(group, name.c_str(), H5P_DEFAULT) <= 0)
    fail(path, "missing dataset " + where + "/" + name);
  Handle set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(set), H5Tclose);
  if (H5Tget_class(type) != H5T_FLOAT)
    fail(path, where + "/" + name + " does not hold floating-point numbers");
  Handle space(H5Dget_space(set), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  Shape got(dims.begin(), dims.end());
  if (got != shape)
    fail(path, where + "/" + name + " has shape " + shape_str(got) + ", the model expects " +
                   shape_str(shape));
  return set;
}

void read_floats(hid_t group, const std::string& name, float* out, const Shape& shape,
                 const std::string& path, const std::string& where) {
  Handle set = open_floats(group, name, shape, path, where);
  if (H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    fail(path, "cannot read dataset " + where + "/" + name + " (file damaged?)");
}

Handle open_file(const std::string& path) {
  quiet_hdf5();
  if (access(path.c_str(), R_OK) != 0) fail(path, "cannot open checkpoint (no such file?)");
  if (is_directory(path)) fail(path, "is a directory, expected a checkpoint file");
  std::error_code error;  // (HDF5 opens what it is given: a named pipe would wait for a writer)
  if (!std::filesystem::is_regular_file(path, error))
    fail(path, "is not a regular file (a pipe or a device), expected a checkpoint file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    fail(path, "not an HDF5 file (or it is truncated)");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) fail(path, "cannot open as HDF5 (truncated or damaged?)");
  return file;
}

Handle open_group(hid_t file, const char* name, const std::string& path) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
    fail(path, std::string("not a tapegpt checkpoint: missing group /") + name);
  return Handle(H5Gopen2(file, name, H5P_DEFAULT), H5Gclose);
}

// The whole file at `tmp`, flushed and fsync'ed.
void write_checkpoint_file(const std::string& tmp, const GPT& model, const Checkpoint& extras,
                           const OptimizerState* optimizer) {
  {
    errno = 0;  // (so a reason printed below is this file's)
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) fail(tmp, "cannot create checkpoint file");

    {  // the groups close before the file, so closing the file below really closes it
      Handle g_model(H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      NamedTensors params = model.named_parameters();
      for (auto& [name, t] : params) write_floats(g_model, name, t.data(), t.shape(), tmp);
      // Tied head: one copy of the data, two names (h5py sees both keys).
      if (H5Lcreate_hard(g_model, "transformer.wte.weight", g_model, "lm_head.weight", H5P_DEFAULT,
                         H5P_DEFAULT) < 0)
        fail(tmp, "cannot link lm_head.weight to transformer.wte.weight");

      const GPTConfig& c = model.config();
      Handle g_config(H5Gcreate2(file, "config", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      write_attr(g_config, "vocab_size", c.vocab_size, tmp);
      write_attr(g_config, "block_size", c.block_size, tmp);
      write_attr(g_config, "n_layer", c.n_layer, tmp);
      write_attr(g_config, "n_head", c.n_head, tmp);
      write_attr(g_config, "n_embd", c.n_embd, tmp);
      write_attr(g_config, "dropout", static_cast<double>(c.dropout), tmp);
      write_attr(g_config, "bias", static_cast<int64_t>(c.bias), tmp);
      write_attr(g_config, "attention", c.attention, tmp);
      write_attr(g_config, "attn_window", c.attn_window, tmp);
      write_attr(g_config, "run_config", extras.run_config, tmp);
      write_attr(g_config, "format", std::string("tapegpt-checkpoint"), tmp);
      write_attr(g_config, "format_version", static_cast<int64_t>(1), tmp);

      if (!extras.tokenizer_json.empty()) {
        Handle g(H5Gcreate2(file, "tokenizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        write_attr(g, "json", extras.tokenizer_json, tmp);
      }
      if (optimizer) {
        Handle g(H5Gcreate2(file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        Handle gm(H5Gcreate2(g, "m", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        Handle gv(H5Gcreate2(g, "v", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        write_attr(g, "step", optimizer->step, tmp);
        int64_t at = 0;
        for (auto& [name, t] : params) {
          write_floats(gm, name, optimizer->m.data() + at, t.shape(), tmp);
          write_floats(gv, name, optimizer->v.data() + at, t.shape(), tmp);
          at += t.numel();
        }
      }
      if (extras.has_state) {
        const TrainState& s = extras.state;
        Handle g(H5Gcreate2(file, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        write_attr(g, "iteration", s.iteration, tmp);
        write_attr(g, "tokens_seen", s.tokens_seen, tmp);
        write_attr(g, "best_val_loss", s.best_val_loss, tmp);
        write_attr_u64(g, "dropout_seed", s.dropout_seed, tmp);
        write_attr_u64(g, "dropout_offset", s.dropout_offset, tmp);
        write_attr_u64(g, "data_seed", s.data_seed, tmp);
        write_attr_u64(g, "data_epoch", s.data_epoch, tmp);
        write_attr_u64(g, "data_cursor", s.data_cursor, tmp);
        write_attr(g, "elapsed_s", s.elapsed_s, tmp);
      }
      if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
        fail(tmp, "cannot write the checkpoint (" + write_error_reason() + ")");
    }
    if (file.close() < 0) fail(tmp, "cannot write the checkpoint (" + write_error_reason() + ")");
  }
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    fail(tmp, "fsync failed");
  }
  ::close(fd);
}


}  // namespace

void save_checkpoint(const std::string& path, const GPT& model, const Checkpoint& extras,
                     const OptimizerState* optimizer) {
  quiet_hdf5();
  const std::string tmp = path + ".tmp";
  try {
    write_checkpoint_file(tmp, model, extras, optimizer);
  } catch (...) {
    std::remove(tmp.c_str());  // a full disk must not stay full of a half-written file
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename " + tmp + " over it");
  }
}


Checkpoint read_checkpoint(const std::string& path) {
  Handle file = open_file(path);
  Checkpoint ck;
  {
    Handle g = open_group(file, "config", path);
    // Files without the marker (written by other tools in this layout) are read as version 1.
    if (has_attr(g, "format") && read_str(g, "format", path, "config") != "tapegpt-checkpoint")
      fail(path, "config/format is not \"tapegpt-checkpoint\"");
    if (has_attr(g, "format_version")) {
      const int64_t version = read_i64(g, "format_version", path, "config");
      if (version != 1)
        fail(path, "checkpoint format_version " + std::to_string(version) +
                       " (this tapegpt reads version 1)");
    }
    GPTConfig& c = ck.config;
    c.vocab_size = read_i64(g, "vocab_size", path, "config");
    c.block_size = read_i64(g, "block_size", path, "config");
    c.n_layer = read_i64(g, "n_layer", path, "config");
    c.n_head = read_i64(g, "n_head", path, "config");
    c.n_embd = read_i64(g, "n_embd", path, "config");
    // dropout is a training choice (DESIGN's config group does not list it), and the run
    // config a record: a file from another tool may have neither.
    c.dropout = has_attr(g, "dropout") ? static_cast<float>(read_f64(g, "dropout", path, "config")) : 0.0f;
    const int64_t bias = read_i64(g, "bias", path, "config");
    if (bias != 0 && bias != 1)
      fail(path, "config/bias is " + std::to_string(bias) + ", expected 0 or 1");
    c.bias = bias == 1;
    c.attention = read_str(g, "attention", path, "config");
    c.attn_window = read_i64(g, "attn_window", path, "config");
    if (has_attr(g, "run_config")) ck.run_config = read_str(g, "run_config", path, "config");
    try {
      c.validate();
    } catch (const std::exception& e) {
      fail(path, std::string("config group: ") + e.what());
    }
  }
  {  // The config must describe the stored weights before anything is sized from it: a damaged
     // vocab_size or block_size would otherwise ask for an impossible allocation.
    Handle model = open_group(file, "model", path);
    const GPTConfig& c = ck.config;
    open_floats(model, "transformer.wte.weight", {c.vocab_size, c.n_embd}, path, "model");
    open_floats(model, "transformer.wpe.weight", {c.block_size, c.n_embd}, path, "model");
    const std::string last = "transformer.h." + std::to_string(c.n_layer - 1) + ".ln_1.weight";
    const std::string past = "transformer.h." + std::to_string(c.n_layer) + ".ln_1.weight";
    open_floats(model, last, {c.n_embd}, path, "model");
    if (H5Lexists(model, past.c_str(), H5P_DEFAULT) > 0)
      fail(path, "config/n_layer is " + std::to_string(c.n_layer) + " but model/" + past +
                     " exists");
  }
  if (H5Lexists(file, "tokenizer", H5P_DEFAULT) > 0) {
    Handle g(H5Gopen2(file, "tokenizer", H5P_DEFAULT), H5Gclose);
    ck.tokenizer_json = read_str(g, "json", path, "tokenizer");
  }
  if (H5Lexists(file, "state", H5P_DEFAULT) > 0) {
    Handle g(H5Gopen2(file, "state", H5P_DEFAULT), H5Gclose);
    TrainState& s = ck.state;
    s.iteration = read_i64(g, "iteration", path, "state");
    if (s.iteration < 0)
      fail(path, "state: iteration " + std::to_string(s.iteration) + " is negative");
    s.tokens_seen = read_i64(g, "tokens_seen", path, "state");
    if (s.tokens_seen < 0)
      fail(path, "state: tokens_seen " + std::to_string(s.tokens_seen) + " is negative");
    s.best_val_loss = read_f64(g, "best_val_loss", path, "state");
    // A cross-entropy is never below 0: no loss would compare below NaN or a negative best,
    // and best.h5 would stay where it is for the rest of the run. (No evaluation yet: +inf.)
    if (!(s.best_val_loss >= 0.0))
      fail(path, "state: best_val_loss " + std::to_string(s.best_val_loss) + " is not a loss (NaN or below 0)");
    s.dropout_seed = read_u64(g, "dropout_seed", path, "state");
    s.dropout_offset = read_u64(g, "dropout_offset", path, "state");
    s.data_seed = read_u64(g, "data_seed", path, "state");
    s.data_epoch = read_u64(g, "data_epoch", path, "state");
    s.data_cursor = read_u64(g, "data_cursor", path, "state");
    if (has_attr(g, "elapsed_s")) {  // (not in checkpoints of older versions: 0)
      s.elapsed_s = read_f64(g, "elapsed_s", path, "state");
      if (!(s.elapsed_s >= 0.0 && std::isfinite(s.elapsed_s)))
        fail(path, "state: elapsed_s " + std::to_string(s.elapsed_s) + " is not a time");
    }
    ck.has_state = true;
  }
  ck.has_optimizer = H5Lexists(file, "optimizer", H5P_DEFAULT) > 0;
  return ck;
}

void read_optimizer(const std::string& path, const GPT& model, OptimizerState* into) {
  Handle file = open_file(path);
  Handle g = open_group(file, "optimizer", path);
  OptimizerState& state = *into;
  state.step = read_i64(g, "step", path, "optimizer");
  if (state.step < 0) fail(path, "optimizer: step " + std::to_string(state.step) + " is negative");
  Handle gm = open_group(g, "m", path), gv = open_group(g, "v", path);
  state.m.resize(model.flat_size());
  state.v.resize(model.flat_size());
  int64_t at = 0;
  for (auto& [name, t] : model.named_parameters()) {
    read_floats(gm, name, state.m.data() + at, t.shape(), path, "optimizer/m");
    read_floats(gv, name, state.v.data() + at, t.shape(), path, "optimizer/v");
    // A mean of squares is finite and never below 0: a damaged one would surface steps later
    // as "training diverged (lower learning_rate?)", blaming the wrong thing.
    const float *m = state.m.data() + at, *v = state.v.data() + at;
    if (!all_finite(m, t.numel()))
      fail(path, "optimizer/m/" + name + " holds NaN or Inf values");
    if (!std::all_of(v, v + t.numel(), [](float x) { return std::isfinite(x) && x >= 0.0f; }))
      fail(path, "optimizer/v/" + name + " holds NaN, Inf or negative values");
    at += t.numel();
  }
}

void load_weights(const std::string& path, GPT& model) {
  Handle file = open_file(path);
  Handle g = open_group(file, "model", path);
  const NamedTensors params = model.named_parameters();
  for (auto& [name, t] : params) {
    read_floats(g, name, t.data(), t.shape(), path, "model");
    // A NaN or Inf would surface later as "training diverged" or NaN logits, blaming the wrong thing.
    if (!all_finite(t.data(), t.numel()))
      fail(path, "model/" + name + " holds NaN or Inf values");
  }
  // Weights the model has no place for (biases under bias=false, a layer past n_layer) mean the
  // config does not describe the file: loading the rest would be a different model.
  H5G_info_t info;
  if (H5Gget_info(g, &info) < 0) fail(path, "cannot list group /model (file damaged?)");
  for (hsize_t i = 0; i < info.nlinks; i++) {
    char name[512] = {};
    if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                           H5P_DEFAULT) < 0)
      fail(path, "cannot list group /model (file damaged?)");
    const std::string n = name;
    // nanoGPT (without flash attention) and Hugging Face keep their causal mask as a buffer in
    // the state_dict: not a weight, and computed here.
    const bool mask_buffer =
        name_ends_with(n, ".attn.bias") || name_ends_with(n, ".attn.masked_bias");
    const bool known = n == "lm_head.weight" || mask_buffer ||
                       std::any_of(params.begin(), params.end(),
                                   [&](const auto& p) { return p.first == n; });
    if (!known) fail(path, "model/" + n + " is not a weight of the model that /config describes");
  }
  // The head is wte itself (weight tying). A file may store it as a link to wte (tapegpt) or as
  // a copy (a torch state_dict saved key by key); a head of its own would be silently lost.
  if (H5Lexists(g, "lm_head.weight", H5P_DEFAULT) > 0) {
    const Tensor& wte = model.wte.weight;
    Handle head = open_floats(g, "lm_head.weight", wte.shape(), path, "model");
    Handle wte_set(H5Dopen2(g, "transformer.wte.weight", H5P_DEFAULT), H5Dclose);
    const haddr_t at = H5Dget_offset(head);
    if (at == HADDR_UNDEF || at != H5Dget_offset(wte_set)) {  // not the same data: compare
      std::vector<float> values(wte.numel());
      read_floats(g, "lm_head.weight", values.data(), wte.shape(), path, "model");
      if (!std::equal(values.begin(), values.end(), wte.data()))
        fail(path, "model/lm_head.weight differs from model/transformer.wte.weight: tapegpt ties "
                   "the two and cannot load a separate output head");
    }
  }
}

std::unique_ptr<Tokenizer> checkpoint_tokenizer(const Checkpoint& ck, const std::string& path) {
  if (ck.tokenizer_json.empty()) fail(path, "checkpoint holds no tokenizer");
  auto tokenizer = tokenizer_from_json(ck.tokenizer_json, path + " (tokenizer)");
  if (tokenizer->vocab_size() > ck.config.vocab_size)
    fail(path, "the tokenizer has " + std::to_string(tokenizer->vocab_size()) +
                   " tokens, more than the model's vocab_size " +
                   std::to_string(ck.config.vocab_size));
  return tokenizer;
}

bool all_finite(const float* x, int64_t n) {
  return std::all_of(x, x + n, [](float v) { return std::isfinite(v); });
}

bool names_a_checkpoint(const std::string& path) {
  if (std::filesystem::path(path).extension() == ".h5") return true;
  quiet_hdf5();
  std::error_code error;
  return std::filesystem::is_regular_file(path, error) && access(path.c_str(), R_OK) == 0 &&
         H5Fis_hdf5(path.c_str()) > 0;
}

std::unique_ptr<Tokenizer> tokenizer_named_by(const std::string& path) {
  if (names_a_checkpoint(path)) return checkpoint_tokenizer(read_checkpoint(path), path);
  return load_tokenizer(path);
}

void require_same_tokenizer(const std::string& dataset_dir, const Tokenizer& tokenizer,
                            const std::string& checkpoint) {
  const std::string data_tokenizer = dataset_dir + "/tokenizer.json";
  if (access(data_tokenizer.c_str(), F_OK) != 0) return;
  if (!same_ids(*load_tokenizer(data_tokenizer), tokenizer))
    throw std::runtime_error(data_tokenizer + ": not the tokenizer " + checkpoint +
                             " was trained with: its ids mean other text (prepare the data with "
                             "`prepare --tokenizer " + checkpoint + "`)");
}

std::unique_ptr<GPT> load_model(const std::string& path) {
  Checkpoint ck = read_checkpoint(path);
  auto model = std::make_unique<GPT>(ck.config, std::nullopt);
  load_weights(path, *model);
  return model;
}

}  // namespace tg
