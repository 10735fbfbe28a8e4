// Routes by method and path pattern ("/v1/videos/{id}/content"), and the dispatch of a
// request through them: request id, problem responses for unknown paths and methods and for
// handler failures, metrics by route pattern, and one access log line per request.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "observability/metrics.hpp"

namespace framehouse::http {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);

  // Runs the request through its route. Never throws.
  Response dispatch(Request& request) const;

  void set_metrics(observability::Metrics* metrics);
  std::vector<std::pair<std::string, std::string>> routes() const;  // (method, pattern)

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    observability::Metrics::RouteStats* stats = nullptr;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& segments,
                    std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
  observability::Metrics* metrics_ = nullptr;
};

// An incoming X-Request-Id if it is safe to echo (1-128 of [A-Za-z0-9._-]), else a new one.
std::string request_id_for(const Request& request);

}  // namespace framehouse::http
