// tapegpt — the command line: a thin layer over the library (see ../shared DESIGN: CLI).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "cli/commands.h"
#include "cli/whole_numbers.h"

int main(int argc, char** argv) {
  CLI::App app{"tapegpt: train, fine-tune, evaluate and sample GPT models on the CPU"};
  app.require_subcommand(1);
  tg::cli::add_prepare(app);
  tg::cli::add_tokenize(app);
  tg::cli::add_examples(app);
  tg::cli::add_train(app);
  tg::cli::add_finetune(app);
  tg::cli::add_sample(app);
  tg::cli::add_eval(app);
  tg::cli::add_inspect(app);
  tg::cli::add_bench(app);
  tg::cli::check_typed_options(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help: the help text, exit 0
    if (app.get_subcommands().empty() && argc > 1) {  // `tapegpt bogus`: not "a subcommand is required"
      std::fprintf(stderr, "tapegpt: error: unknown command '%s' (see tapegpt --help)\n", argv[1]);
      return 1;
    }
    // An unknown option, a value that is not a number, ...: one line, like every other error.
    const CLI::App* command = app.get_subcommands().empty() ? nullptr : app.get_subcommands()[0];
    std::string what = e.what();
    // CLI11 checks required options before unknown ones, so `prepare --inptu a.txt` said
    // "--input is required". The unknown option is the mistake to name.
    if (dynamic_cast<const CLI::RequiredError*>(&e) && command && !command->remaining().empty())
      what = CLI::ExtrasError(command->remaining()).what();
    std::fprintf(stderr, "tapegpt: error: %s (see tapegpt%s --help)\n", what.c_str(),
                 command ? (" " + command->get_name()).c_str() : "");
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "tapegpt: error: out of memory: the model or its data does not fit in "
                         "this machine's memory (smaller batch_size, block_size or model?)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapegpt: error: %s\n", e.what());
    return 1;
  }
  // `tapegpt tokenize ... > ids.txt` on a full disk must not end as a success with half a file.
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "tapegpt: error: writing to standard output: %s\n",
                 errno != 0 ? std::strerror(errno) : "a write failed");
    return 1;
  }
  return 0;
}
