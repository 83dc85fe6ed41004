#include "nn/module.h"

#include <stdexcept>

namespace tg {

void Module::register_parameter(const std::string& name, const Tensor& t) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument("parameter name '" + name + "' must be non-empty, without dots");
  for (auto& [n, _] : params_)
    if (n == name) throw std::invalid_argument("parameter '" + name + "' registered twice");
  params_.emplace_back(name, t);
}

void Module::register_module(const std::string& name, Module* child) {
  if (name.empty() || !child) throw std::invalid_argument("register_module: empty name or null");
  for (auto& [n, _] : children_)
    if (n == name) throw std::invalid_argument("module '" + name + "' registered twice");
  children_.emplace_back(name, child);
}

void Module::collect(const std::string& prefix, NamedTensors& out) const {
  for (auto& [name, t] : params_) {
    bool seen = false;
    for (auto& [_, u] : out) seen = seen || u.same_as(t);
    if (!seen) out.emplace_back(prefix + name, t);
  }
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [_, t] : named_parameters()) n += t.numel();
  return n;
}

}  // namespace tg
