// The operational endpoints: liveness, readiness, metrics.
#pragma once

#include "db/database.hpp"
#include "http/router.hpp"
#include "observability/metrics.hpp"
#include "plugins/host.hpp"

namespace framehouse::app {

void add_operations_routes(http::Router& router, db::Database& database,
                           const plugins::PluginHost& host, const observability::Metrics& metrics);

}  // namespace framehouse::app
