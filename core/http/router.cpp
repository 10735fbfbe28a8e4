#include "http/router.hpp"

#include <chrono>
#include <cstdio>
#include <random>

#include <boost/core/demangle.hpp>
#include <cxxabi.h>

#include <sodium.h>

#include "http/openai_errors.hpp"
#include "http/problem.hpp"
#include "observability/log.hpp"
#include "workers/blocking.hpp"

namespace framehouse::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = path.find('/', start);
    const auto segment = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    segments.push_back(segment);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return segments;
}

bool safe_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

void finalize_response(const Request& request, Response& response) {
  response.set_header("X-Request-Id", request.request_id);
  if (is_openai_route(request.path)) response = as_openai_error(std::move(response));
}

std::string request_id_for(const Request& request) {
  if (auto incoming = request.header("x-request-id"); incoming && safe_request_id(*incoming)) {
    return std::string(*incoming);
  }
  // Request ids need to be unique, not secret: a per-thread generator seeded once from the
  // system's randomness spares a getrandom() call per request.
  thread_local std::mt19937_64 generator = [] {
    std::uint64_t seed = 0;
    randombytes_buf(&seed, sizeof seed);
    return std::mt19937_64(seed);
  }();
  const std::uint64_t high = generator();
  const std::uint32_t low = static_cast<std::uint32_t>(generator());
  char hex[25];
  std::snprintf(hex, sizeof hex, "%016llx%08x", static_cast<unsigned long long>(high), low);
  return hex;
}

void Router::add(std::string method, std::string pattern, Handler handler, Blocking blocking) {
  Route route{std::move(method), pattern, {}, std::move(handler), blocking};
  for (auto segment : split_path(pattern)) route.segments.emplace_back(segment);
  if (metrics_ != nullptr) route.stats = &metrics_->route(route.method, route.pattern);
  routes_.push_back(std::move(route));
}

void Router::set_metrics(observability::Metrics* metrics) {
  metrics_ = metrics;
  for (auto& route : routes_) route.stats = metrics_ ? &metrics_->route(route.method, route.pattern) : nullptr;
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& route : routes_) out.emplace_back(route.method, route.pattern);
  return out;
}

bool Router::match(const Route& route, const std::vector<std::string_view>& segments,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& expected = route.segments[i];
    if (expected.size() > 2 && expected.front() == '{' && expected.back() == '}') {
      if (segments[i].empty()) return false;
      found[expected.substr(1, expected.size() - 2)] = std::string(segments[i]);
    } else if (expected != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

const Router::Route* Router::route_of(Request& request) const {
  request.request_id = request_id_for(request);
  const auto segments = split_path(request.path);
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match(route, segments, params)) continue;
    if (route.method == request.method || (request.method == "HEAD" && route.method == "GET")) {
      request.path_params = std::move(params);
      return &route;
    }
  }
  return nullptr;
}

bool Router::runs_inline(const Route* route) {
  // An unknown path or method is answered from memory too.
  return route == nullptr || route->blocking == Blocking::never;
}

Response Router::dispatch(Request& request) const { return run(route_of(request), request); }

bool Router::tried_in_memory(const Route* route) { return route != nullptr && route->blocking == Blocking::unless_in_memory; }

Response Router::call_handler(const Route& route, Request& request) const {
  try {
    return route.handler(request);
  } catch (const workers::WouldBlock&) {
    throw;  // try_in_memory() hands the request on
  } catch (...) {
    // The exception's text is not logged: it may quote SQL parameters or input, i.e.
    // personal data. Its type says which layer failed; the request id finds the request.
    const std::type_info* type = abi::__cxa_current_exception_type();
    observability::Log::error("http", "handler failed",
                              {{"route", route.pattern},
                               {"request_id", request.request_id},
                               {"error_type", type != nullptr ? boost::core::demangle(type->name()) : "unknown"}});
    return problem(problems::kInternal, "", request.request_id);
  }
}

std::optional<Response> Router::try_in_memory(const Route* route, Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  std::optional<Response> response;
  try {
    workers::MemoryOnly memory_only;
    response = call_handler(*route, request);
  } catch (const workers::WouldBlock&) {
    return std::nullopt;
  }
  finalize_response(request, *response);
  record(route, route->pattern, request, *response, started);
  return response;
}

Response Router::run(const Route* chosen, Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  std::string allowed;
  if (chosen == nullptr) {
    const auto segments = split_path(request.path);
    for (const auto& route : routes_) {
      std::map<std::string, std::string> params;
      if (match(route, segments, params)) allowed += (allowed.empty() ? "" : ", ") + route.method;
    }
  }

  Response response;
  std::string route_label = "(unmatched)";
  if (chosen == nullptr && !allowed.empty()) {
    response = problem(problems::kMethodNotAllowed,
                       "use one of: " + allowed, request.request_id);
    response.set_header("Allow", allowed);
  } else if (chosen == nullptr) {
    response = problem(problems::kNotFound, "", request.request_id);
  } else {
    route_label = chosen->pattern;
    response = call_handler(*chosen, request);
  }
  finalize_response(request, response);
  record(chosen, route_label, request, response, started);
  return response;
}

void Router::record(const Route* chosen, const std::string& route_label, const Request& request, const Response& response,
                    std::chrono::steady_clock::time_point started) const {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (chosen != nullptr && chosen->stats != nullptr && chosen->method == request.method) {
    chosen->stats->record(response.status, seconds);
  } else if (metrics_ != nullptr) {
    metrics_->record_request(request.method, route_label, response.status, seconds);
  }
  if (observability::Log::enabled(observability::LogLevel::info)) {
    observability::Log::info("http", "request",
                             {{"request_id", request.request_id}, {"method", request.method},
                              {"route", route_label}, {"status", std::to_string(response.status)},
                              {"ms", std::to_string(seconds * 1000)}});
  }
}

}  // namespace framehouse::http
