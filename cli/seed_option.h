// seed_option.h — the check every --seed option (and `seed` key of a config file) goes through.
// A seed is a whole number in [0, 2^64). CLI11 alone would wrap −1 to 2^64 − 1 and clamp
// 2^64 to 2^64 − 1 without a word, while config.toml recorded the number as typed.
#pragma once
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace tg::cli {

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

}  // namespace tg::cli
