#include "observability/metrics.hpp"

#include <fmt/format.h>

namespace framehouse::observability {
namespace {

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

template <class Histogram>
void render_histogram(std::string& out, std::string_view name, const std::string& labels,
                      const Histogram& histogram, const auto& bounds) {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  const std::string plain = labels.empty() ? "" : "{" + labels + "}";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += histogram.buckets[i];
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, bounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, histogram.count);
  out += fmt::format("{}_sum{} {}\n", name, plain, histogram.sum);
  out += fmt::format("{}_count{} {}\n", name, plain, histogram.count);
}

}  // namespace

void Metrics::Histogram::observe(double value) {
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (value <= kLatencyBuckets[i]) {
      ++buckets[i];
      break;
    }
  }
  ++count;
  sum += value;
}

void Metrics::RouteStats::record(int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++statuses_[status];
  latency_.observe(seconds);
}

Metrics::RouteStats& Metrics::route(std::string_view method, std::string_view route) {
  std::lock_guard lock(mutex_);
  auto& stats = routes_[{std::string(method), std::string(route)}];
  if (!stats) stats = std::make_unique<RouteStats>();
  return *stats;
}

void Metrics::record_plugin_call(std::string_view plugin, std::string_view method,
                                 bool succeeded, double seconds) {
  std::lock_guard lock(mutex_);
  PluginMethodKey key{std::string(plugin), std::string(method)};
  ++plugin_calls_[key];
  if (!succeeded) ++plugin_failures_[key];
  plugin_latency_[key].observe(seconds);
}

void Metrics::record_plugin_load_failure(std::string_view plugin) {
  std::lock_guard lock(mutex_);
  ++plugin_load_failures_[std::string(plugin)];
}

std::string Metrics::render() const {
  // Gauges are read after the lock is let go: a gauge that queries the database must not wait
  // for a connection while a thread holding one waits for this lock to count something.
  std::map<std::string, Gauge> gauges;
  std::map<std::string, LabeledGauge> labeled_gauges;
  std::string out = render_recorded(gauges, labeled_gauges);
  for (const auto& [name, gauge] : gauges) {
    double value = 0;
    try {
      value = gauge.read();
    } catch (const std::exception&) {
      continue;  // e.g. the database is down: /readyz says so; the gauge is left out
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, gauge.help, name, gauge.type, name, value);
  }
  for (const auto& [name, gauge] : labeled_gauges) {
    std::string series;
    for (const auto& [value, read] : gauge.series) {
      try {
        series += fmt::format("{}{{{}=\"{}\"}} {}\n", name, gauge.label, escape_label(value), read());
      } catch (const std::exception&) {
        // left out, as above
      }
    }
    if (!series.empty()) out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, gauge.help, name) + series;
  }
  return out;
}

std::string Metrics::render_recorded(std::map<std::string, Gauge>& gauges, std::map<std::string, LabeledGauge>& labeled_gauges) const {
  std::lock_guard lock(mutex_);
  gauges = gauges_;
  labeled_gauges = labeled_gauges_;
  std::string out;
  out += "# HELP framehouse_http_requests_total HTTP requests by method, route and status.\n";
  out += "# TYPE framehouse_http_requests_total counter\n";
  std::string latency;
  for (const auto& [key, stats] : routes_) {
    const auto& [method, route] = key;
    const std::string labels = fmt::format("method=\"{}\",route=\"{}\"", escape_label(method), escape_label(route));
    std::lock_guard route_lock(stats->mutex_);
    for (const auto& [status, count] : stats->statuses_) {
      out += fmt::format("framehouse_http_requests_total{{{},status=\"{}\"}} {}\n", labels, status, count);
    }
    render_histogram(latency, "framehouse_http_request_duration_seconds", labels, stats->latency_, kLatencyBuckets);
  }
  out += "# HELP framehouse_http_request_duration_seconds HTTP request latency.\n";
  out += "# TYPE framehouse_http_request_duration_seconds histogram\n";
  out += latency;
  out += "# HELP framehouse_plugin_calls_total Calls into plugins by plugin and method.\n";
  out += "# TYPE framehouse_plugin_calls_total counter\n";
  for (const auto& [key, count] : plugin_calls_) {
    out += fmt::format("framehouse_plugin_calls_total{{plugin=\"{}\",method=\"{}\"}} {}\n",
                       escape_label(std::get<0>(key)), escape_label(std::get<1>(key)), count);
  }
  out += "# HELP framehouse_plugin_call_failures_total Failed plugin calls (errors, exceptions, timeouts).\n";
  out += "# TYPE framehouse_plugin_call_failures_total counter\n";
  for (const auto& [key, count] : plugin_failures_) {
    out += fmt::format("framehouse_plugin_call_failures_total{{plugin=\"{}\",method=\"{}\"}} {}\n",
                       escape_label(std::get<0>(key)), escape_label(std::get<1>(key)), count);
  }
  out += "# HELP framehouse_plugin_call_duration_seconds Plugin call latency.\n";
  out += "# TYPE framehouse_plugin_call_duration_seconds histogram\n";
  for (const auto& [key, histogram] : plugin_latency_) {
    render_histogram(out, "framehouse_plugin_call_duration_seconds",
                     fmt::format("plugin=\"{}\",method=\"{}\"", escape_label(std::get<0>(key)),
                                 escape_label(std::get<1>(key))),
                     histogram, kLatencyBuckets);
  }
  out += "# HELP framehouse_plugin_load_failures_total Plugins that failed to load or start.\n";
  out += "# TYPE framehouse_plugin_load_failures_total counter\n";
  for (const auto& [plugin, count] : plugin_load_failures_) {
    out += fmt::format("framehouse_plugin_load_failures_total{{plugin=\"{}\"}} {}\n",
                       escape_label(plugin), count);
  }
  for (const auto& [name, counter] : counters_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, counter.help, name);
    for (const auto& [value, count] : counter.values) {
      out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, counter.label, escape_label(value), count);
    }
  }
  for (const auto& [name, entry] : histograms_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, entry.help, name);
    for (const auto& [value, histogram] : entry.series) {
      const std::string labels = entry.label.empty() ? "" : fmt::format("{}=\"{}\"", entry.label, escape_label(value));
      render_histogram(out, name, labels, histogram, kLatencyBuckets);
    }
  }
  return out;
}

void Metrics::count(const std::string& name, const std::string& help, const std::string& label, const std::string& value,
                    std::uint64_t by) {
  std::lock_guard lock(mutex_);
  auto& counter = counters_[name];
  if (counter.help.empty()) {
    counter.help = help;
    counter.label = label;
  }
  counter.values[value] += by;
}

void Metrics::observe(const std::string& name, const std::string& help, double seconds) {
  observe(name, help, "", "", seconds);
}

void Metrics::observe(const std::string& name, const std::string& help, const std::string& label, const std::string& value,
                      double seconds) {
  std::lock_guard lock(mutex_);
  auto& entry = histograms_[name];
  if (entry.help.empty()) {
    entry.help = help;
    entry.label = label;
  }
  entry.series[value].observe(seconds);
}

void Metrics::add_gauge(const std::string& name, const std::string& help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_[name] = Gauge{help, std::move(read)};
}

void Metrics::add_counter(const std::string& name, const std::string& help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_[name] = Gauge{help, std::move(read), "counter"};
}

void Metrics::add_gauge(const std::string& name, const std::string& help, const std::string& label, const std::string& value,
                        std::function<double()> read) {
  std::lock_guard lock(mutex_);
  auto& gauge = labeled_gauges_[name];
  if (gauge.help.empty()) {
    gauge.help = help;
    gauge.label = label;
  }
  gauge.series[value] = std::move(read);
}

}  // namespace framehouse::observability
