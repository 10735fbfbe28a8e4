#include <gtest/gtest.h>

#include "observability/metrics.hpp"

namespace framehouse::observability {
namespace {

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics metrics;
  metrics.record_request("GET", "/healthz", 200, 0.0004);
  metrics.record_request("GET", "/healthz", 200, 0.003);
  metrics.record_request("GET", "/healthz", 500, 9.0);
  const std::string text = metrics.render();
  const std::string labels = "method=\"GET\",route=\"/healthz\"";
  EXPECT_NE(text.find("framehouse_http_request_duration_seconds_bucket{" + labels + ",le=\"0.0005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("framehouse_http_request_duration_seconds_bucket{" + labels + ",le=\"0.005\"} 2"), std::string::npos);
  EXPECT_NE(text.find("framehouse_http_request_duration_seconds_bucket{" + labels + ",le=\"5\"} 2"), std::string::npos);
  EXPECT_NE(text.find("framehouse_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(text.find("framehouse_http_request_duration_seconds_count{" + labels + "} 3"), std::string::npos);
  EXPECT_NE(text.find("framehouse_http_requests_total{" + labels + ",status=\"500\"} 1"), std::string::npos);
}

TEST(Metrics, PluginCallsFailuresAndLoadFailures) {
  Metrics metrics;
  metrics.record_plugin_call("storage_fs", "put", true, 0.01);
  metrics.record_plugin_call("storage_fs", "put", false, 0.01);
  metrics.record_plugin_load_failure("broken\"name");
  const std::string text = metrics.render();
  EXPECT_NE(text.find("framehouse_plugin_calls_total{plugin=\"storage_fs\",method=\"put\"} 2"), std::string::npos);
  EXPECT_NE(text.find("framehouse_plugin_call_failures_total{plugin=\"storage_fs\",method=\"put\"} 1"), std::string::npos);
  EXPECT_NE(text.find("framehouse_plugin_load_failures_total{plugin=\"broken\\\"name\"} 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE framehouse_plugin_calls_total counter"), std::string::npos);
}

}  // namespace
}  // namespace framehouse::observability
