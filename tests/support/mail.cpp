#include "support/mail.hpp"

namespace framehouse::testing {

TestMail::TestMail(db::Database& database, observability::Metrics& metrics, plugins::PluginHost& host,
                   std::shared_ptr<plugins::LoadedPlugin> provider, const std::string& from, jobs::MillisecondClock clock)
    : outbox(database, metrics, {mail::kOutboxQueue}, std::move(clock)),
      mailer(database, outbox, from),
      delivery(database, outbox, host, std::move(provider), {}) {}

int TestMail::deliver_due() {
  int runs = 0;
  while (auto job = outbox.claim("test-delivery")) {
    outbox.settle(*job, delivery.deliver(*job));
    ++runs;
  }
  return runs;
}

}  // namespace framehouse::testing
