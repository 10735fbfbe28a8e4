#include "workflow.hpp"

#include <cmath>
#include <fstream>
#include <functional>
#include <regex>

#include <boost/json.hpp>

namespace gen_comfyui {

namespace json = boost::json;

namespace {

const std::set<std::string> kKnown = {"prompt", "negative_prompt", "seed",  "width", "height",
                                      "seconds", "fps", "frames", "image", "filename_prefix"};
const std::regex kPlaceholder(R"(\{\{([a-z_]+)\}\})");

// Calls `visit` on every string in the value, which may replace it.
void each_string(json::value& value, const std::function<void(json::value&)>& visit) {
  if (value.is_string()) {
    visit(value);
  } else if (value.is_array()) {
    for (auto& item : value.as_array()) each_string(item, visit);
  } else if (value.is_object()) {
    for (auto& [key, item] : value.as_object()) each_string(item, visit);
  }
}

}  // namespace

std::variant<Workflow, std::string> Workflow::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return "workflow " + file.string() + ": cannot be read";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) return "workflow " + file.string() + ": not JSON (" + ec.message() + ")";
  if (!parsed.is_object() || parsed.as_object().empty()) {
    return "workflow " + file.string() + ": not a workflow in API format (an object of nodes; export it with \"Export (API)\")";
  }
  Workflow workflow;
  for (auto& [id, node] : parsed.as_object()) {
    const auto* inputs = node.is_object() ? node.as_object().if_contains("inputs") : nullptr;
    const auto* type = node.is_object() ? node.as_object().if_contains("class_type") : nullptr;
    if (type == nullptr || !type->is_string() || inputs == nullptr || !inputs->is_object()) {
      return "workflow " + file.string() + ": node " + std::string(id) +
             " has no class_type and inputs (export the workflow in API format)";
    }
  }
  std::string unknown;
  each_string(parsed, [&](json::value& value) {
    const std::string text(value.as_string());
    for (std::sregex_iterator it(text.begin(), text.end(), kPlaceholder), end; it != end; ++it) {
      const std::string name = (*it)[1];
      if (kKnown.count(name) == 0 && unknown.empty()) unknown = name;
      workflow.placeholders_.insert(name);
    }
  });
  if (!unknown.empty()) return "workflow " + file.string() + ": unknown placeholder {{" + unknown + "}}";
  for (const char* required : {"prompt", "seed", "width", "height"}) {
    if (workflow.placeholders_.count(required) == 0) {
      return "workflow " + file.string() + ": no {{" + std::string(required) + "}} placeholder";
    }
  }
  if (workflow.placeholders_.count("frames") == 0 && workflow.placeholders_.count("seconds") == 0) {
    return "workflow " + file.string() + ": no {{frames}} or {{seconds}} placeholder (the video's length)";
  }
  workflow.graph_ = std::move(parsed.as_object());
  return workflow;
}

json::object Workflow::fill(const JobValues& values) const {
  const std::int64_t frames = std::llround(values.seconds * values.fps) + 1;
  const auto value_of = [&](const std::string& name) -> json::value {
    if (name == "prompt") return json::value(values.prompt);
    if (name == "negative_prompt") return json::value(values.negative_prompt);
    if (name == "seed") return json::value(values.seed);
    if (name == "width") return json::value(values.width);
    if (name == "height") return json::value(values.height);
    if (name == "seconds") return json::value(values.seconds);
    if (name == "fps") return json::value(values.fps);
    if (name == "frames") return json::value(frames);
    if (name == "image") return json::value(values.image);
    return json::value(values.filename_prefix);
  };
  json::value graph = graph_;
  each_string(graph, [&](json::value& value) {
    const std::string text(value.as_string());
    std::smatch whole;
    if (std::regex_match(text, whole, kPlaceholder)) {
      value = value_of(whole[1]);  // typed: a number stays a number
      return;
    }
    std::string filled;
    std::size_t from = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), kPlaceholder), end; it != end; ++it) {
      filled += text.substr(from, static_cast<std::size_t>(it->position()) - from);
      const json::value replacement = value_of((*it)[1]);
      filled += replacement.is_string() ? std::string(replacement.as_string()) : json::serialize(replacement);
      from = static_cast<std::size_t>(it->position() + it->length());
    }
    if (from > 0) value = json::value(filled + text.substr(from));
  });
  return std::move(graph.as_object());
}

}  // namespace gen_comfyui
