// The outbox's workers: each queued message is handed to the email plugin, retried with
// exponential backoff while the provider fails for now (down, timing out, refusing our
// credentials), and recorded as dead when it refuses for good (a suppressed or unknown
// recipient, a malformed message) — visible to admins (/v1/admin/outbox) and in /metrics.
#pragma once

#include <memory>

#include "jobs/job_runner.hpp"
#include "plugins/host.hpp"

namespace framehouse::mail {

struct DeliveryConfig {
  int workers = 2;
};

class Delivery {
 public:
  // `provider` may be null (no email plugin): messages then wait in the outbox.
  Delivery(db::Database& database, jobs::JobQueue& outbox, plugins::PluginHost& host,
           std::shared_ptr<plugins::LoadedPlugin> provider, DeliveryConfig config);

  void start();
  void stop();
  // One queued message handed to the provider; what the outbox records of it.
  jobs::JobResult deliver(const jobs::Job& job);

 private:
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> provider_;
  DeliveryConfig config_;
  jobs::JobRunner runner_;
};

}  // namespace framehouse::mail
