// Prometheus metrics of the process: HTTP requests by route and status, request latency,
// plugin calls and failures by plugin and method, plugin load failures. Labels are route
// patterns and plugin names, never raw paths, so their number stays bounded.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace framehouse::observability {

class Metrics {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
    void observe(double value);
  };

  // The counters of one (method, route pattern): looked up once, then updated under a lock
  // of its own, so that requests on different routes never wait for each other.
  class RouteStats {
   public:
    void record(int status, double seconds);

   private:
    friend class Metrics;
    mutable std::mutex mutex_;
    std::map<int, std::uint64_t> statuses_;
    Histogram latency_;
  };

  // Stable for the life of the Metrics object.
  RouteStats& route(std::string_view method, std::string_view route);
  void record_request(std::string_view method, std::string_view route, int status, double seconds) {
    this->route(method, route).record(status, seconds);
  }
  void record_plugin_call(std::string_view plugin, std::string_view method, bool succeeded,
                          double seconds);
  void record_plugin_load_failure(std::string_view plugin);

  // A counter with one label, e.g. ("framehouse_privacy_task_failures_total", "participant",
  // "storage_fs"). `help` is set by the first call for a name.
  void count(const std::string& name, const std::string& help, const std::string& label, const std::string& value,
             std::uint64_t by = 1);
  // A histogram without labels, in seconds (the latency buckets), e.g. how long an opt-out took
  // to reach every plugin.
  void observe(const std::string& name, const std::string& help, double seconds);
  // One series of a histogram with one label, e.g. ("framehouse_job_run_seconds", "queue", "mail").
  void observe(const std::string& name, const std::string& help, const std::string& label, const std::string& value,
               double seconds);
  // A gauge read when /metrics is scraped (e.g. overdue requests, from the database).
  void add_gauge(const std::string& name, const std::string& help, std::function<double()> read);
  // A counter kept elsewhere (a pool's rejections since start), read when /metrics is scraped.
  void add_counter(const std::string& name, const std::string& help, std::function<double()> read);
  // One series of a gauge with one label, e.g. ("framehouse_plugin_calls_in_flight", "plugin",
  // "storage_fs"). `help` and `label` are set by the first call for a name.
  void add_gauge(const std::string& name, const std::string& help, const std::string& label, const std::string& value,
                 std::function<double()> read);

  // The exposition text (format version 0.0.4).
  std::string render() const;

 private:
  using PluginMethodKey = std::tuple<std::string, std::string>;

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<RouteStats>> routes_;
  std::map<PluginMethodKey, std::uint64_t> plugin_calls_;
  std::map<PluginMethodKey, std::uint64_t> plugin_failures_;
  std::map<PluginMethodKey, Histogram> plugin_latency_;
  std::map<std::string, std::uint64_t> plugin_load_failures_;
  struct LabeledCounter {
    std::string help;
    std::string label;
    std::map<std::string, std::uint64_t> values;
  };
  std::map<std::string, LabeledCounter> counters_;
  struct Gauge {
    std::string help;
    std::function<double()> read;
    const char* type = "gauge";  // or "counter"
  };
  std::map<std::string, Gauge> gauges_;
  struct LabeledGauge {
    std::string help;
    std::string label;
    std::map<std::string, std::function<double()>> series;
  };
  std::map<std::string, LabeledGauge> labeled_gauges_;
  // Everything but the gauges, rendered under the lock; the gauges are copied out for render().
  std::string render_recorded(std::map<std::string, Gauge>& gauges,
                              std::map<std::string, LabeledGauge>& labeled_gauges) const;
  struct LabeledHistogram {
    std::string help;
    std::string label;  // empty for a histogram without labels
    std::map<std::string, Histogram> series;
  };
  std::map<std::string, LabeledHistogram> histograms_;
};

}  // namespace framehouse::observability
