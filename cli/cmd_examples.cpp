// Placeholder until the data layer lands (owned by the data work; replaced whole).
#include "cli/commands.h"
#include <stdexcept>
namespace tg::cli {
void add_examples(CLI::App& app) {
  app.add_subcommand("examples", "(not built yet)")->callback([] { throw std::runtime_error("examples: not built yet"); });
}
}  // namespace tg::cli
