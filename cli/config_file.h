// config_file.h — `--config FILE` for a subcommand: every key of the TOML file sets the option
// of the same name unless the command line gave it (the command line wins); a key that names
// no option is an error naming the key and the file.
//
// (CLI11 2.1's own set_config only reads the file for the top-level app, where subcommand keys
// would need a [train] section; this keeps config keys and option names the same word.)
#pragma once
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/file_util.h"
#include "data/utf8.h"

namespace tg::cli {

// What the file's `key = value` lines say about each key (as CLI11 names it: `section.key`
// under a [section]): how many lines set it (CLI11 merges a repeated key into one item with
// several values), whether a value is quoted (TOML's text type), and whether a line gives no
// value at all (`key =`, which CLI11 would read as 0, false or "").
struct KeyLines {
  int count = 0;
  bool quoted = false;
  bool empty = false;
  char quote = 0;    // '"' (a TOML basic string, with escapes) or '\'' (a literal one)
  std::string text;  // the text between the quotes, as typed
};
// A quoted value is taken from between its quotes here, not from CLI11 2.1: it cuts a line at
// its first '#' before it looks for quotes (`prompt = "Issue #1"` reached the option as
// `"Issue `), and it leaves a basic string's escapes as typed. The index of the quote that
// closes `value` (which starts with one; in "…", a '\' hides the next character), or npos.
inline size_t closing_quote(const std::string& value) {
  for (size_t i = 1; i < value.size(); i++) {
    if (value[0] == '"' && value[i] == '\\') i++;
    else if (value[i] == value[0]) return i;
  }
  return std::string::npos;
}
inline std::map<std::string, KeyLines> scan_key_lines(const std::string& path, const std::string& text) {
  auto trim = [](const std::string& t) {
    const size_t a = t.find_first_not_of(" \t\r"), b = t.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
  };
  auto unquote = [](const std::string& t) {
    const bool quoted = t.size() >= 2 && (t[0] == '"' || t[0] == '\'') && t.back() == t[0];
    return quoted ? t.substr(1, t.size() - 2) : t;
  };
  std::map<std::string, KeyLines> keys;
  std::string section;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      const size_t close = line.find(']');
      section = close == std::string::npos ? "" : trim(line.substr(1, close - 1)) + ".";
      std::string lower = section;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "default.") section = "";  // CLI11's name for the top level, in any case
      continue;
    }
    const size_t eq = line.find('=');
    // A bare `key` (CLI11 would read it as true) has no value either.
    const std::string key = section + unquote(trim(line.substr(0, eq)));
    KeyLines& k = keys[key];
    const std::string value = eq == std::string::npos ? "" : trim(line.substr(eq + 1));
    k.count++;
    const bool quoted = !value.empty() && (value[0] == '"' || value[0] == '\'');
    if (quoted) {
      const size_t close = closing_quote(value);
      if (close == std::string::npos || (close == 1 && value.compare(0, 3, "\"\"\"") == 0))
        throw std::runtime_error(path + ": '" + key + "': the quoted value is not closed on its line");
      const std::string rest = trim(value.substr(close + 1));
      if (!rest.empty() && rest[0] != '#')
        throw std::runtime_error(path + ": '" + key + "': text after the closing quote");
      k.text = value.substr(1, close - 1);
      k.quote = value[0];
    }
    k.quoted = k.quoted || quoted;
    k.empty = k.empty || value.empty() || value[0] == '#';
  }
  return keys;
}

// A TOML basic string's text ("…" without its quotes) with its escapes decoded: \n, \t, \",
// \\, \uXXXX, ... (`prompt = "english: dog\nfrench:"` is two lines). An unknown escape is an
// error naming the key.
inline std::string toml_unescape(const std::string& text, const std::string& path, const std::string& key) {
  std::string out;
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    const char e = i + 1 < text.size() ? text[++i] : '\0';
    size_t digits = 0;  // of a \uXXXX or \UXXXXXXXX code point
    switch (e) {
      case 'b': out += '\b'; continue;
      case 't': out += '\t'; continue;
      case 'n': out += '\n'; continue;
      case 'f': out += '\f'; continue;
      case 'r': out += '\r'; continue;
      case '"': out += '"'; continue;
      case '\\': out += '\\'; continue;
      case 'u': digits = 4; break;
      case 'U': digits = 8; break;
      default:
        throw std::runtime_error(path + ": '" + key + "': unknown escape '\\" + std::string(1, e) +
                                 "' in a \"...\" string (write \\\\ for a backslash, or quote with '...')");
    }
    const std::string hex = text.substr(i + 1, digits);
    const bool is_hex = hex.size() == digits && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    const unsigned long cp = is_hex ? std::stoul(hex, nullptr, 16) : 0;
    if (!is_hex || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      throw std::runtime_error(path + ": '" + key + "': \\" + std::string(1, e) + hex +
                               " is not a Unicode code point");
    utf8::append(out, static_cast<char32_t>(cp));
    i += digits;
  }
  return out;
}

// text as a TOML basic string: quoted, with \\, \" and control characters escaped.
inline std::string toml_quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04X", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += code;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// TOML lets a number's digits be grouped with underscores (max_iters = 5_000), which CLI11 does
// not read. An underscore between two digits is dropped; any other stays, for the option's own
// check to refuse (`1__000`, `_1`).
inline std::string without_digit_underscores(const std::string& value) {
  auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(value[i])) != 0; };
  std::string out;
  for (size_t i = 0; i < value.size(); i++)
    if (!(value[i] == '_' && i > 0 && i + 1 < value.size() && digit(i - 1) && digit(i + 1)))
      out += value[i];
  return out;
}

// Sets the options that TOML `text` from `path` names (a config file's, or a checkpoint's recorded
// run config, whose keys, with unknown_keys false, may include ones this version no longer has:
// they are passed over); an option the command line gave keeps its value. Returns the keys set.
inline std::set<std::string> apply_config_text(CLI::App* cmd, const std::string& text,
                                               const std::string& path, bool unknown_keys) {
  std::set<std::string> applied;
  std::vector<CLI::ConfigItem> items;
  try {
    std::istringstream in(text);
    items = CLI::ConfigTOML().from_config(in);
  } catch (const CLI::Error& e) {
    throw std::runtime_error(path + ": cannot parse config: " + e.what());
  }
  const std::map<std::string, KeyLines> lines = scan_key_lines(path, text);
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section open/close markers
    const std::string key = item.fullname();
    CLI::Option* opt = cmd->get_option_no_throw("--" + key);
    if ((!opt || key == "config") && !unknown_keys) continue;
    if (!opt || key == "config") {
      std::string shown;  // control bytes as \xNN: a key of raw bytes must not reach the terminal
      for (unsigned char c : key) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", c);
        shown += c < 0x20 || c == 0x7F ? std::string(hex) : std::string(1, static_cast<char>(c));
      }
      throw std::runtime_error(path + ": unknown key '" + shown + "' (see `tapegpt " +
                               cmd->get_name() + " --help` for the keys)");
    }
    const KeyLines seen = lines.count(key) ? lines.at(key) : KeyLines{};
    if (seen.count > 1)
      throw std::runtime_error(path + ": '" + key + "' is set " + std::to_string(seen.count) +
                               " times; keep one");
    if (seen.empty) throw std::runtime_error(path + ": '" + key + "' has no value");
    // INT, UINT, FLOAT, BOOLEAN or TEXT, then ":" and any validator's description; "" (flag)
    const std::string type = opt->get_type_name().substr(0, opt->get_type_name().find(':'));
    if (type != "TEXT" && seen.quoted)
      throw std::runtime_error(path + ": '" + key + "' takes " +
                               (type == "BOOLEAN" || type.empty() ? "true or false" : "a number") +
                               ", not a quoted string");
    if (opt->count() > 0) continue;  // given on the command line: that wins
    std::vector<std::string> inputs = item.inputs;
    if (type == "TEXT" && seen.quote == '\'') inputs = {seen.text};
    if (type == "TEXT" && seen.quote == '"') inputs = {toml_unescape(seen.text, path, key)};
    if (type == "INT" || type == "UINT" || type == "FLOAT")
      for (std::string& input : inputs) input = without_digit_underscores(input);
    try {
      opt->add_result(inputs);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw std::runtime_error(path + ": bad value for '" + key + "': " + e.what());
    }
    applied.insert(key);
  }
  return applied;
}

// Returns the keys whose values came from the file (not overridden on the command line).
inline std::set<std::string> apply_config_file(CLI::App* cmd, const std::string& path) {
  if (path.empty()) return {};
  if (std::filesystem::is_directory(path))
    throw std::runtime_error(path + ": is a directory, expected a TOML config file");
  if (!std::filesystem::is_regular_file(path))
    throw std::runtime_error(path + ": config file not found");
  std::string text = read_file(path);
  // An editor's UTF-8 byte-order mark would become part of the first key's name.
  text.erase(0, utf8::bom_length(text));
  // A binary file (a checkpoint given by mistake) would be read as keys of raw bytes.
  const size_t nul = text.find('\0');
  if (nul != std::string::npos)
    throw std::runtime_error(path + ": not a text file (a NUL byte at offset " + std::to_string(nul) +
                             "); --config takes a TOML file");
  return apply_config_text(cmd, text, path, /*unknown_keys=*/true);
}

// Runs `body`; an std::invalid_argument whose message names keys the config file set
// ("n_head must be positive, got 0", "n_embd=16 is not divisible by n_head=3") is rethrown
// naming the file, where the user must look, and the command line too when it set the others.
template <typename Body>
void naming_config_file(CLI::App* cmd, const std::set<std::string>& from_file,
                        const std::string& path, Body body) {
  try {
    body();
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    bool in_file = false, on_command_line = false;
    for (size_t at = 0; at < what.size();) {  // every word that names an option
      const size_t end = what.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789", at);
      const std::string word = what.substr(at, end - at);
      if (from_file.count(word)) in_file = true;
      else if (CLI::Option* opt = cmd->get_option_no_throw("--" + word); opt && opt->count() > 0)
        on_command_line = true;
      at = end == std::string::npos ? end : end + 1;
    }
    if (!in_file) throw;
    throw std::invalid_argument(path + (on_command_line ? " and the command line: " : ": ") + what);
  }
}

// Adds `--config FILE` to cmd and returns where the path will be stored.
inline std::shared_ptr<std::string> add_config_option(CLI::App* cmd) {
  auto path = std::make_shared<std::string>();
  cmd->add_option("--config", *path, "TOML file with any of these options (command line wins)");
  return path;
}

}  // namespace tg::cli
