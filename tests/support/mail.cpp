#include "support/mail.hpp"

namespace framehouse::testing {

TestMail::TestMail(db::Database& database, observability::Metrics& metrics, plugins::PluginHost& host,
                   std::shared_ptr<plugins::LoadedPlugin> provider, const std::string& from, jobs::MillisecondClock clock)
    : outbox(database, metrics, {mail::kOutboxQueue}, std::move(clock)),
      mailer(database, outbox, from),
      delivery(database, outbox, host, std::move(provider), {}),
      runner(outbox, database, [this](const jobs::Job& job, std::stop_token) { return delivery.deliver(job); }) {}

int TestMail::deliver_due() {
  int runs = 0;
  while (runner.run_one("test-delivery")) ++runs;
  return runs;
}

}  // namespace framehouse::testing
