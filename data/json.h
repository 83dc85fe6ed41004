// json.h — a small JSON value with a strict parser and a compact writer. Enough for the files the
// data layer reads and writes: tokenizer.json, meta.json, GPT-2's encoder.json and JSONL pairs.
// Objects keep their keys in file order (encoder.json is written back in the order it was read).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tg {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(double x) : type_(Type::Number), num_(x) {}
  Json(int x) : Json(static_cast<double>(x)) {}
  Json(int64_t x) : Json(static_cast<double>(x)) {}
  Json(uint64_t x) : Json(static_cast<double>(x)) {}
  Json(std::string s) : type_(Type::String), str_(std::move(s)) {}
  Json(const char* s) : Json(std::string(s)) {}
  Json(Array a) : type_(Type::Array), arr_(std::move(a)) {}
  Json(Object o) : type_(Type::Object), obj_(std::move(o)) {}

  // Parses one JSON document (surrounding whitespace allowed). `where` names the source in
  // errors, e.g. "encoder.json" or "pairs.jsonl line 12"; the error adds line and column.
  static Json parse(std::string_view text, const std::string& where);

  // Compact one-line form (no spaces), UTF-8 kept as is; integers are written without a dot.
  std::string dump() const;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // Typed access; throws std::runtime_error "<where>: expected <what>" on a type mismatch.
  bool as_bool(const std::string& where) const;
  double as_number(const std::string& where) const;
  int64_t as_int(const std::string& where) const;  // a number with no fractional part
  const std::string& as_string(const std::string& where) const;
  const Array& as_array(const std::string& where) const;
  const Object& as_object(const std::string& where) const;

  // Object lookup: nullptr when absent (or when this is not an object).
  const Json* find(std::string_view key) const;
  // Object lookup that must succeed: "<where>: missing key \"key\"".
  const Json& at(std::string_view key, const std::string& where) const;

  // Builders for writing.
  Json& set(std::string key, Json value);  // appends (object)
  void push_back(Json value);              // appends (array)

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0.0;
  std::string str_;
  Array arr_;
  Object obj_;
};

// Appends s to out as a quoted JSON string.
void json_quote(std::string& out, std::string_view s);

}  // namespace tg
