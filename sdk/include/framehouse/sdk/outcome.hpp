// Framehouse SDK — explicit outcomes. Nothing throws across the plugin boundary: every call
// returns an Outcome (or a Result<T>, which is a value or an Outcome). The host still catches
// anything a plugin lets escape and turns it into Status::internal with the plugin's name.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "framehouse/sdk/version.hpp"

namespace framehouse::sdk {

enum class Status {
  ok = 0,
  invalid_argument,   // the caller's input was wrong; retrying the same call will not help
  not_found,          // the object or subject does not exist
  conflict,           // the call clashes with current state (duplicate id, wrong state)
  permission_denied,  // the remote side refused our credentials
  unavailable,        // transient: network down, remote 5xx, overloaded; retry later
  timeout,            // the call did not finish in time
  unsupported,        // this plugin does not do that
  internal,           // a bug or an unexpected failure inside the plugin
#if FRAMEHOUSE_SINCE(SDK, 1)
  canceled,           // sdk 1.1: stopped because it was asked to (a user's cancel): an outcome, not a fault
#endif
};

const char* to_string(Status status) noexcept;

class [[nodiscard]] Outcome {
 public:
  Outcome() = default;  // success
  static Outcome success() { return {}; }
  static Outcome failure(Status status, std::string message) {
    return Outcome(status, std::move(message));
  }

  bool ok() const noexcept { return status_ == Status::ok; }
  explicit operator bool() const noexcept { return ok(); }
  Status status() const noexcept { return status_; }
  // A message meant for operators. It must never contain secrets or personal data.
  const std::string& message() const noexcept { return message_; }
  // Transient failures are worth retrying later; the others are not.
  bool retryable() const noexcept {
    return status_ == Status::unavailable || status_ == Status::timeout;
  }

 private:
  Outcome(Status status, std::string message) : status_(status), message_(std::move(message)) {}
  Status status_ = Status::ok;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Outcome failure) : outcome_(std::move(failure)) {  // NOLINT(google-explicit-constructor)
    if (outcome_.ok()) outcome_ = Outcome::failure(Status::internal, "empty result");
  }

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Outcome& outcome() const noexcept { return outcome_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Outcome outcome_;
};

inline const char* to_string(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::invalid_argument: return "invalid_argument";
    case Status::not_found: return "not_found";
    case Status::conflict: return "conflict";
    case Status::permission_denied: return "permission_denied";
    case Status::unavailable: return "unavailable";
    case Status::timeout: return "timeout";
    case Status::unsupported: return "unsupported";
    case Status::internal: return "internal";
#if FRAMEHOUSE_SINCE(SDK, 1)
    case Status::canceled: return "canceled";
#endif
  }
  return "internal";
}

}  // namespace framehouse::sdk
