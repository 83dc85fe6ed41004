// Placeholder until the data layer lands (owned by the data work; replaced whole).
#include "cli/commands.h"
#include <stdexcept>
namespace tg::cli {
void add_prepare(CLI::App& app) {
  app.add_subcommand("prepare", "(not built yet)")->callback([] { throw std::runtime_error("prepare: not built yet"); });
}
}  // namespace tg::cli
