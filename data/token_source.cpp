// token_source.cpp — see token_source.h.
#include "data/token_source.h"

#include <algorithm>
#include <stdexcept>

namespace tg {

TokenVector::TokenVector(std::vector<int32_t> ids, int64_t vocab_size, std::string name)
    : ids_(std::move(ids)), vocab_size_(vocab_size), name_(std::move(name)) {
  for (size_t i = 0; i < ids_.size(); ++i)
    if (ids_[i] < 0 || ids_[i] >= vocab_size_)
      throw std::invalid_argument(name_ + ": token " + std::to_string(i) + " has id " + std::to_string(ids_[i]) +
                                  ", outside the vocabulary [0, " + std::to_string(vocab_size_) + ")");
}

void TokenVector::read(int64_t start, int64_t n, int32_t* out) const {
  std::copy(ids_.begin() + start, ids_.begin() + start + n, out);
}

}  // namespace tg
