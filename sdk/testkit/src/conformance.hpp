// The suites' shared pieces (not installed as a public header of its own).
#pragma once

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "framehouse/sdk/email.hpp"
#include "framehouse/testkit/conformance.hpp"

namespace framehouse::testkit::detail {

using Check = std::function<void(const ConformanceTarget&)>;
void add_check(const std::string& suite, const std::string& name, const ConformanceTarget& target, Check check);

// One suite per interface; each registers its checks.
void register_storage_checks(const ConformanceTarget& target);
void register_privacy_checks(const ConformanceTarget& target);
void register_email_checks(const ConformanceTarget& target);
void register_generation_checks(const ConformanceTarget& target);
void register_payment_checks(const ConformanceTarget& target);

// A complete RFC 5322 message (From, To, Date, Subject, Message-ID; CRLF; a line that needs
// dot-stuffing) to `address`, about the person `user_id`, with outbox id `id`.
sdk::EmailMessage conformance_message(const std::string& address, const std::string& id, const std::string& user_id);

// Starts the target's plugin and fails the current test (returning nullptr) when it cannot.
#define FRAMEHOUSE_START_PLUGIN(variable, target)       \
  ::framehouse::testkit::StartedPlugin variable(target); \
  ASSERT_EQ(variable.error(), "")

}  // namespace framehouse::testkit::detail
