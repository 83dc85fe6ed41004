// module.h — a thing with named parameters and named child modules (as torch.nn.Module).
//
// named_parameters() walks children recursively and joins names with dots, so the names are
// exactly nanoGPT's state_dict keys ("transformer.h.0.attn.c_attn.weight") and double as the
// checkpoint index. A tensor registered twice (tied weights) is listed once, under the name it
// got first — as PyTorch does.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace tg {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// True when the dotted name ends with `suffix` ("transformer.h.0.mlp.c_proj.weight", ".weight").
inline bool name_ends_with(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;  // children are held by pointer: a copy would dangle
  Module& operator=(const Module&) = delete;

  NamedTensors named_parameters() const;
  int64_t num_parameters() const;  // elements, each tied tensor once

 protected:
  void register_parameter(const std::string& name, const Tensor& t);
  void register_module(const std::string& name, Module* child);

 private:
  void collect(const std::string& prefix, NamedTensors& out) const;
  NamedTensors params_;
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace tg
