// Test support: the outbox, the mailer and the delivery of an in-process test, with no worker
// threads — queued mail reaches the provider when the test says so (deliver_due), on a clock
// the test moves, so that what a test reads is never racing a worker.
#pragma once

#include <memory>
#include <string>

#include "jobs/job_runner.hpp"
#include "mail/delivery.hpp"
#include "mail/mailer.hpp"

namespace framehouse::testing {

struct TestMail {
  TestMail(db::Database& database, observability::Metrics& metrics, plugins::PluginHost& host,
           std::shared_ptr<plugins::LoadedPlugin> provider, const std::string& from,
           jobs::MillisecondClock clock = jobs::system_now_ms);

  // Hands every message due now to the provider, as the delivery workers would; returns how
  // many runs there were (delivered or not).
  int deliver_due();

  jobs::JobQueue outbox;
  mail::Mailer mailer;
  mail::Delivery delivery;
  // Never started: deliver_due() runs its step on the test's thread.
  jobs::JobRunner runner;
};

}  // namespace framehouse::testing
