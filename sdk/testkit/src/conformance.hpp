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

// Starts the target's plugin as `plugin_` and points `variable` at its `Interface`; fails the
// current test when either cannot be had.
#define FRAMEHOUSE_START_INTERFACE(variable, Interface, target)  \
  ::framehouse::testkit::StartedPlugin plugin_(target);           \
  ASSERT_EQ(plugin_.error(), "");                                 \
  auto* variable = plugin_.find<Interface>();                     \
  ASSERT_NE(variable, nullptr)

}  // namespace framehouse::testkit::detail
