// whole_numbers.h — the checks whole-number options (and config-file keys) go through.
// CLI11 2.1 clamps a number past int64's range to its end without a word (strtoll's ERANGE is
// not looked at), and wraps −1 to 2^64 − 1 for an unsigned one, while config.toml recorded the
// number as typed.
#pragma once
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace tg::cli {

// A seed is a whole number in [0, 2^64).
inline CLI::Validator seed_range() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string want = "a seed is a whole number from 0 to 18446744073709551615, got '" + text + "'";
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return want;
        errno = 0;
        std::strtoull(text.c_str(), nullptr, 10);
        return errno == ERANGE ? want : std::string();
      },
      "SEED");
}

// A signed whole number written in decimal must fit in int64 (anything else is left to CLI11's
// own conversion, which refuses what is not a number).
inline CLI::Validator fits_in_int64() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
        if (text.size() == sign || text.find_first_not_of("0123456789", sign) != std::string::npos)
          return "";
        errno = 0;
        std::strtoll(text.c_str(), nullptr, 10);
        return errno == ERANGE ? "a whole number from -9223372036854775808 to 9223372036854775807, got '" + text + "'"
                               : std::string();
      },
      "");
}

// Every signed whole-number option of every subcommand of app gets fits_in_int64.
inline void check_whole_number_options(CLI::App& app) {
  for (CLI::App* command : app.get_subcommands(nullptr))
    for (CLI::Option* option : command->get_options(nullptr))
      // ("INT", or "INT:<a validator's description>")
      if (option->get_type_name().substr(0, option->get_type_name().find(':')) == "INT")
        option->check(fits_in_int64());
}

}  // namespace tg::cli
