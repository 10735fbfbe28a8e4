#include "app/operations.hpp"

#include <boost/json/object.hpp>

#include "http/problem.hpp"

namespace framehouse::app {

void add_operations_routes(http::Router& router, db::Database& database, const plugins::PluginHost& host,
                           const observability::Metrics& metrics, const workers::TaskProcessor* handlers) {
  // Liveness answers from the I/O thread: busy handlers do not make the process look dead.
  router.add(
      "GET", "/healthz", [](http::Request&) { return http::Response::json(200, boost::json::object{{"status", "alive"}}); },
      http::Blocking::never);

  router.add("GET", "/readyz", [&database, &host, handlers](http::Request& request) {
    boost::json::object checks;
    bool ready = true;
    if (handlers != nullptr) {
      // A load balancer sends new clients elsewhere while every handler is taken.
      const bool saturated = handlers->saturated();
      checks["handlers"] = saturated ? "saturated" : "ok";
      ready = ready && !saturated;
    }
    const bool database_ok = database.ping();
    checks["database"] = database_ok ? "ok" : "unreachable";
    ready = ready && database_ok;
    boost::json::object plugins;
    for (const auto& plugin : host.plugins()) {
      plugins[plugin->name()] = plugin->started() ? "started" : "stopped";
      ready = ready && plugin->started();
    }
    checks["plugins"] = std::move(plugins);
    if (!ready) {
      return http::problem(http::problems::kUnavailable, "a dependency is not ready", request.request_id,
                           {{"checks", std::move(checks)}});
    }
    return http::Response::json(200, boost::json::object{{"status", "ready"}, {"checks", std::move(checks)}});
  });

  router.add("GET", "/metrics", [&metrics](http::Request&) {
    return http::Response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace framehouse::app
