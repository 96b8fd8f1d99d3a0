#pragma once

#include <utility>
#include <variant>

namespace callrec::core {

// A value or the reason there is none. C++20 has no std::expected; this is the
// thin wrapper STYLE.md asks for, used wherever outside input can be refused.
template <typename T, typename E>
class Result {
 public:
  Result(T value)
      : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error)
      : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<0>(data_); }
  T& value() & { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const E& error() const& { return std::get<1>(data_); }

  const T* operator->() const { return &value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, E> data_;
};

}  // namespace callrec::core
