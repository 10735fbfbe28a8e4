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

// How a handler may run. Most block (SQL, plugins, hashing) and run on the handler threads;
// a handler that only reads memory (the liveness probe, metrics) runs on the I/O thread, so
// that it answers even while every handler thread is busy.
enum class Blocking { may_block, never };

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler, Blocking blocking = Blocking::may_block);

  struct Route;
  // The route a request goes to (nullptr: none; the answer is then a 404 or 405), with the
  // request's id and path parameters filled in.
  const Route* route_of(Request& request) const;
  static bool runs_inline(const Route* route);
  // Runs the request through the route route_of() chose: problem responses for unknown paths,
  // methods and failing handlers, metrics and the access log. Never throws.
  Response run(const Route* route, Request& request) const;
  // route_of() and run() in one.
  Response dispatch(Request& request) const;

  void set_metrics(observability::Metrics* metrics);
  std::vector<std::pair<std::string, std::string>> routes() const;  // (method, pattern)

 private:
  static bool match(const Route& route, const std::vector<std::string_view>& segments,
                    std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
  observability::Metrics* metrics_ = nullptr;
};

struct Router::Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;
  Handler handler;
  Blocking blocking = Blocking::may_block;
  observability::Metrics::RouteStats* stats = nullptr;
};

// An incoming X-Request-Id if it is safe to echo (1-128 of [A-Za-z0-9._-]), else a new one.
std::string request_id_for(const Request& request);

}  // namespace framehouse::http
