// The email provider contract (sdk/email.hpp).
#include "conformance.hpp"
#include "framehouse/sdk/email.hpp"

namespace framehouse::testkit::detail {
namespace {

sdk::EmailMessage message_to(const std::string& address, const std::string& id) {
  return conformance_message(address, id, "usr_conformance");
}

}  // namespace

sdk::EmailMessage conformance_message(const std::string& address, const std::string& id, const std::string& user_id) {
  sdk::EmailMessage message;
  message.envelope_from = "noreply@conformance.example";
  message.recipients = {address};
  message.category = "account";
  message.subject_user_id = user_id;
  message.rfc5322 = "From: Conformance <noreply@conformance.example>\r\nTo: " + address +
                    "\r\nDate: Tue, 01 Dec 2026 12:00:00 +0000\r\nSubject: Conformance\r\nMessage-ID: <" + id +
                    "@conformance.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    "A line.\r\n.starts with a dot\r\n";
#if FRAMEHOUSE_SINCE(EMAIL, 1)
  message.message_id = id;
#endif
  return message;
}

void register_email_checks(const ConformanceTarget& target) {
  add_check("email_conformance", "ASentMessageGetsTheProvidersId", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(email, sdk::EmailProvider, target);
    const auto sent = email->send(message_to("reader@conformance.example", "job_conformance_1"));
    ASSERT_TRUE(sent) << sent.outcome().message();
    EXPECT_FALSE(sent.value().empty());
  });
  add_check("email_conformance", "ASuppressedAddressIsNotMailedAndSaysConflict", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(email, sdk::EmailProvider, target);
    const std::string address = "suppressed@conformance.example";
    EXPECT_EQ(email->is_suppressed(address).value(), false);
    ASSERT_TRUE(email->suppress(address, "hard bounce"));
    EXPECT_TRUE(email->suppress(address, "hard bounce"));  // again: still fine
    EXPECT_EQ(email->is_suppressed(address).value(), true);
    EXPECT_EQ(email->send(message_to(address, "job_conformance_2")).outcome().status(), sdk::Status::conflict);
  });
  add_check("email_conformance", "NoLogLineNamesARecipient", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(email, sdk::EmailProvider, target);
    const std::string address = "private.person@conformance.example";
    (void)email->send(message_to(address, "job_conformance_3"));
    (void)email->suppress(address, "complaint");
    (void)email->send(message_to(address, "job_conformance_4"));
    EXPECT_FALSE(plugin_.host().log().contains("private.person")) << "the plugin logged the address";
  });
}

}  // namespace framehouse::testkit::detail
