#include "autograd/parallel.h"

#include <omp.h>

namespace tg {
int num_threads() { return omp_get_max_threads(); }
}  // namespace tg
