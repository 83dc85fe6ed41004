// embedding.h — a lookup table of vectors, one row per id (torch.nn.Embedding).
#pragma once
#include "autograd/ops.h"
#include "nn/module.h"

namespace tg {

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim) {
    weight = Tensor::zeros({num_embeddings, dim}, true);
    register_parameter("weight", weight);
  }
  Tensor forward(const Ids& ids) const { return embedding(ids, weight); }  // [...] → [..., C]

  Tensor weight;  // [V, C]
};

}  // namespace tg
