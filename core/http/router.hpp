// Routes by method and path pattern ("/v1/videos/{id}/content"), and the dispatch of a
// request through them: request id, problem responses for unknown paths and methods and for
// handler failures, metrics by route pattern, and one access log line per request.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "observability/metrics.hpp"

namespace framehouse::http {

using Handler = std::function<Response(Request&)>;

// How a handler may run. Most block (SQL, plugins, hashing) and run on the handler threads;
// a handler that only reads memory (the liveness probe, metrics) runs on the I/O thread, so
// that it answers even while every handler thread is busy. A hot read that can often be
// answered from what was read lately (the signed-in person's profile) is tried on the I/O
// thread first and handed to the handler threads only when it would block: it must change
// nothing before its first blocking step (see workers/blocking.hpp).
enum class Blocking { may_block, never, unless_in_memory };

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler, Blocking blocking = Blocking::may_block);

  struct Route;
  // The route a request goes to (nullptr: none; the answer is then a 404 or 405), with the
  // request's id and path parameters filled in.
  const Route* route_of(Request& request) const;
  static bool runs_inline(const Route* route);
  static bool tried_in_memory(const Route* route);
  // Runs the request through the route route_of() chose: problem responses for unknown paths,
  // methods and failing handlers, metrics and the access log. Never throws.
  Response run(const Route* route, Request& request) const;
  // run() for a route tried from memory: nullopt (and nothing recorded) when the handler would
  // have blocked; the request then goes to run() on a handler thread.
  std::optional<Response> try_in_memory(const Route* route, Request& request) const;
  // route_of() and run() in one.
  Response dispatch(Request& request) const;

  void set_metrics(observability::Metrics* metrics);
  std::vector<std::pair<std::string, std::string>> routes() const;  // (method, pattern)

 private:
  static bool match(const Route& route, const std::vector<std::string_view>& segments,
                    std::map<std::string, std::string>& params);
  // The route's handler; a failure becomes a 500 problem (and is logged).
  Response call_handler(const Route& route, Request& request) const;
  // Metrics by route and the access log line.
  void record(const Route* chosen, const std::string& route_label, const Request& request, const Response& response,
              std::chrono::steady_clock::time_point started) const;

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
// What every answer gets on its way out, routed or refused before routing: its request id
// (X-Request-Id), and OpenAI's error shape on the routes OpenAI's clients call.
void finalize_response(const Request& request, Response& response);

}  // namespace framehouse::http
