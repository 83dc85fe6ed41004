// json.cpp — recursive-descent JSON parser (RFC 8259) and writer.
#include "data/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "data/utf8.h"

namespace tg {
namespace {

// Deep nesting would overflow the stack of a recursive parser; no file we read nests past 3.
constexpr int kMaxDepth = 256;

class Parser {
 public:
  Parser(std::string_view s, const std::string& where) : s_(s), where_(where) {}

  Json document() {
    skip_ws();
    Json v = value(0);
    skip_ws();
    if (i_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    // Line and column (1-based, in bytes) of the current position.
    size_t line = 1, col = 1;
    for (size_t k = 0; k < i_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') ++line, col = 1;
      else ++col;
    }
    throw std::runtime_error(where_ + ": invalid JSON at line " + std::to_string(line) +
                             " column " + std::to_string(col) + ": " + what);
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) == word) {
      i_ += word.size();
      return true;
    }
    return false;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
    if (i_ >= s_.size()) fail("unexpected end of input");
    const char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json(string());
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) return Json(true);
    if (literal("false")) return Json(false);
    if (literal("null")) return Json();
    // A byte that is not printable ASCII (a binary file, UTF-8 outside a string) by its value.
    char shown[16];
    if (c >= ' ' && c < 0x7F)
      std::snprintf(shown, sizeof(shown), "'%c'", c);
    else
      std::snprintf(shown, sizeof(shown), "byte 0x%02X", static_cast<unsigned char>(c));
    fail(std::string("unexpected ") + (c >= ' ' && c < 0x7F ? "character " : "") + shown);
  }

  Json object(int depth) {
    ++i_;  // '{'
    Json out{Json::Object{}};
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return out;
    }
    while (true) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string key");
      std::string key = string();
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':' after a key");
      ++i_;
      skip_ws();
      out.set(std::move(key), value(depth + 1));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return out;
      }
      fail("expected ',' or '}' in an object");
    }
  }

  Json array(int depth) {
    ++i_;  // '['
    Json out{Json::Array{}};
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return out;
    }
    while (true) {
      skip_ws();
      out.push_back(value(depth + 1));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return out;
      }
      fail("expected ',' or ']' in an array");
    }
  }

  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }

  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      // Copy the run of plain bytes in one go: encoder.json is 1 MB of short strings.
      const size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' &&
             static_cast<unsigned char>(s_[i_]) >= 0x20)
        ++i_;
      out.append(s_.data() + start, i_ - start);
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        break;
      }
      if (c != '\\') fail("control character inside a string");
      ++i_;
      if (i_ >= s_.size()) fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          char32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
            if (s_.substr(i_, 2) != "\\u") fail("unpaired surrogate in \\u escape");
            i_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
          }
          utf8::append(out, cp);
          break;
        }
        default: fail(std::string("unknown escape '\\") + e + "'");
      }
    }
    return out;
  }

  Json number() {
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      const size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ - d;
    };
    if (i_ < s_.size() && s_[i_] == '0') ++i_;
    else if (digits() == 0) fail("bad number");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (digits() == 0) fail("bad number: digits expected after '.'");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits() == 0) fail("bad number: digits expected in the exponent");
    }
    const std::string text(s_.substr(start, i_ - start));
    return Json(std::strtod(text.c_str(), nullptr));
  }

  std::string_view s_;
  const std::string& where_;
  size_t i_ = 0;
};

void dump_to(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::Type::Null: out += "null"; break;
    case Json::Type::Bool: out += v.as_bool("") ? "true" : "false"; break;
    case Json::Type::Number: {
      const double x = v.as_number("");
      char buf[32];
      if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9.007199254740992e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(x));
      else if (std::isfinite(x)) {
        // The shortest of %.15g / %.17g that reads back exactly: 0.1 stays "0.1".
        std::snprintf(buf, sizeof buf, "%.15g", x);
        if (std::strtod(buf, nullptr) != x) std::snprintf(buf, sizeof buf, "%.17g", x);
      }
      else
        std::snprintf(buf, sizeof buf, "null");  // JSON has no NaN/Inf
      out += buf;
      break;
    }
    case Json::Type::String: json_quote(out, v.as_string("")); break;
    case Json::Type::Array: {
      out += '[';
      bool first = true;
      for (const Json& e : v.as_array("")) {
        if (!first) out += ',';
        first = false;
        dump_to(e, out);
      }
      out += ']';
      break;
    }
    case Json::Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.as_object("")) {
        if (!first) out += ',';
        first = false;
        json_quote(out, k);
        out += ':';
        dump_to(e, out);
      }
      out += '}';
      break;
    }
  }
}

const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "a boolean";
    case Json::Type::Number: return "a number";
    case Json::Type::String: return "a string";
    case Json::Type::Array: return "an array";
    case Json::Type::Object: return "an object";
  }
  return "?";
}

[[noreturn]] void type_error(const std::string& where, const char* want, Json::Type got) {
  throw std::runtime_error(where + ": expected " + want + ", found " + type_name(got));
}

}  // namespace

void json_quote(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

Json Json::parse(std::string_view text, const std::string& where) {
  return Parser(text, where).document();
}

std::string Json::dump() const {
  std::string out;
  dump_to(*this, out);
  return out;
}

bool Json::as_bool(const std::string& where) const {
  if (type_ != Type::Bool) type_error(where, "a boolean", type_);
  return bool_;
}
double Json::as_number(const std::string& where) const {
  if (type_ != Type::Number) type_error(where, "a number", type_);
  return num_;
}
int64_t Json::as_int(const std::string& where) const {
  if (type_ != Type::Number) type_error(where, "an integer", type_);
  if (num_ != std::floor(num_) || std::fabs(num_) > 9.007199254740992e15)
    throw std::runtime_error(where + ": expected an integer, found " + dump());
  return static_cast<int64_t>(num_);
}
const std::string& Json::as_string(const std::string& where) const {
  if (type_ != Type::String) type_error(where, "a string", type_);
  return str_;
}
const Json::Array& Json::as_array(const std::string& where) const {
  if (type_ != Type::Array) type_error(where, "an array", type_);
  return arr_;
}
const Json::Object& Json::as_object(const std::string& where) const {
  if (type_ != Type::Object) type_error(where, "an object", type_);
  return obj_;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& [k, v] : obj_)
    if (k == key) return &v;
  return nullptr;
}

const Json& Json::at(std::string_view key, const std::string& where) const {
  as_object(where);
  const Json* v = find(key);
  if (!v) throw std::runtime_error(where + ": missing key \"" + std::string(key) + "\"");
  return *v;
}

Json& Json::set(std::string key, Json value) {
  if (type_ == Type::Null) type_ = Type::Object;
  if (type_ != Type::Object) throw std::logic_error("Json::set on a non-object");
  obj_.emplace_back(std::move(key), std::move(value));
  return *this;
}

void Json::push_back(Json value) {
  if (type_ == Type::Null) type_ = Type::Array;
  if (type_ != Type::Array) throw std::logic_error("Json::push_back on a non-array");
  arr_.push_back(std::move(value));
}

}  // namespace tg
