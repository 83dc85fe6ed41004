// whole_numbers.h — the checks whole-number and true/false options (and config-file keys) go
// through.
// CLI11 2.1 clamps a number past int64's range to its end without a word (strtoll's ERANGE is
// not looked at), and wraps −1 to 2^64 − 1 for an unsigned one, while config.toml recorded the
// number as typed.
#pragma once
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace tg::cli {

// CLI11 reads integers with strtoll in base 0, so `--block_size 010` was 8 and `0x10` 16. Typed
// digits mean a decimal number: the text is put back as its plain decimal form ("010" -> "10"),
// and anything else is refused. Returns false for text that is not [+-]digits.
inline bool as_plain_decimal(std::string& text, bool sign_allowed) {
  const size_t sign = sign_allowed && !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (text.size() == sign || text.find_first_not_of("0123456789", sign) != std::string::npos) return false;
  const size_t first = std::min(text.find_first_not_of('0', sign), text.size() - 1);
  text = (text[0] == '-' ? "-" : "") + text.substr(first);
  if (text == "-0") text = "0";
  return true;
}

// A seed is a whole number in [0, 2^64).
inline CLI::Validator seed_range() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string want = "a seed is a whole number from 0 to 18446744073709551615, got '" + text + "'";
        if (!as_plain_decimal(text, false)) return want;
        errno = 0;
        std::strtoull(text.c_str(), nullptr, 10);
        return errno == ERANGE ? want : std::string();
      },
      "SEED");
}

// A signed whole number: decimal digits that fit in int64.
inline CLI::Validator whole_int64() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string want =
            "a whole number from -9223372036854775808 to 9223372036854775807, got '" + text + "'";
        if (!as_plain_decimal(text, true)) return want;
        errno = 0;
        std::strtoll(text.c_str(), nullptr, 10);
        return errno == ERANGE ? want : std::string();
      },
      "");
}

// CLI11 reads a true/false value with stoll after its words, so `7x` was true and `0.5` false.
inline CLI::Validator true_or_false() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::string word = text;
        for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const char* ok : {"true", "false", "1", "0", "yes", "no", "on", "off"})
          if (word == ok) return "";
        return "true or false, got '" + text + "'";
      },
      "");
}

// Every whole-number and true/false option (and flag) of every subcommand of app gets its check.
inline void check_typed_options(CLI::App& app) {
  for (CLI::App* command : app.get_subcommands(nullptr))
    for (CLI::Option* option : command->get_options(nullptr)) {
      // ("INT", or "INT:<a validator's description>")
      const std::string type = option->get_type_name().substr(0, option->get_type_name().find(':'));
      if (type == "INT") option->transform(whole_int64());  // (check() may not change the text)
      // (a flag's value: `resume = 7x` in a config file, `--json=7x`; given bare, it is "true")
      if (type == "BOOLEAN" || option->get_expected_min() == 0) option->check(true_or_false());
    }
}

}  // namespace tg::cli
