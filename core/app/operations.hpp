// The operational endpoints: liveness, readiness, metrics.
#pragma once

#include "db/database.hpp"
#include "http/router.hpp"
#include "observability/metrics.hpp"
#include "plugins/host.hpp"
#include "workers/task_processor.hpp"

namespace framehouse::app {

// `handlers` (may be null) is the handler pool whose saturation makes the server not ready.
void add_operations_routes(http::Router& router, db::Database& database, const plugins::PluginHost& host,
                           const observability::Metrics& metrics, const workers::TaskProcessor* handlers);

}  // namespace framehouse::app
