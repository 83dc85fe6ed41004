// Placeholder until the data layer lands (owned by the data work; replaced whole).
#include "cli/commands.h"
#include <stdexcept>
namespace tg::cli {
void add_tokenize(CLI::App& app) {
  app.add_subcommand("tokenize", "(not built yet)")->callback([] { throw std::runtime_error("tokenize: not built yet"); });
}
}  // namespace tg::cli
