#include "plugins/compatibility.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "framehouse/sdk/build_signature.hpp"
#include "framehouse/sdk/personal_data.hpp"

namespace framehouse::plugins {
namespace {

struct Version {
  int major = -1;
  int minor = -1;
};

std::optional<Version> parse_version(std::string_view text) {
  Version version;
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto major = std::from_chars(text.data(), text.data() + dot, version.major);
  const auto minor = std::from_chars(text.data() + dot + 1, text.data() + text.size(), version.minor);
  if (major.ec != std::errc{} || minor.ec != std::errc{} || minor.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return version;
}

std::string value_or_missing(const std::map<std::string, std::string>& fields, const std::string& key) {
  const auto it = fields.find(key);
  return it == fields.end() ? "(missing)" : it->second;
}

void check_interface_version(const std::string& interface, const PluginManifest& manifest,
                             std::vector<Mismatch>& mismatches) {
  const std::string host = host_signature().at(interface);
  const std::string found = value_or_missing(manifest.build, interface);
  const auto host_version = parse_version(host);
  const auto plugin_version = parse_version(found);
  const std::string expected = fmt::format("{}.x with x <= {}", host_version->major, host_version->minor);
  const std::string label = interface == "sdk" ? "sdk version" : interface + " interface";
  if (!plugin_version || plugin_version->major != host_version->major ||
      plugin_version->minor > host_version->minor) {
    mismatches.push_back({label, expected, found});
  }
}

}  // namespace

// The host is what every minor is measured against: it is built against the newest of each
// (a FRAMEHOUSE_*_VERSION_MINOR override is for plugins that target older hosts).
static_assert(FRAMEHOUSE_SDK_VERSION_MINOR == FRAMEHOUSE_SDK_LATEST_MINOR &&
                  FRAMEHOUSE_STORAGE_VERSION_MINOR == FRAMEHOUSE_STORAGE_LATEST_MINOR &&
                  FRAMEHOUSE_PAYMENT_VERSION_MINOR == FRAMEHOUSE_PAYMENT_LATEST_MINOR &&
                  FRAMEHOUSE_EMAIL_VERSION_MINOR == FRAMEHOUSE_EMAIL_LATEST_MINOR &&
                  FRAMEHOUSE_GENERATION_VERSION_MINOR == FRAMEHOUSE_GENERATION_LATEST_MINOR &&
                  FRAMEHOUSE_PRIVACY_VERSION_MINOR == FRAMEHOUSE_PRIVACY_LATEST_MINOR,
              "the server is built against the newest minor of every interface");

const std::map<std::string, std::string>& host_signature() {
  static const auto signature = parse_signature(FRAMEHOUSE_BUILD_SIGNATURE);
  return signature;
}

const std::vector<std::string>& known_interfaces() {
  static const std::vector<std::string> interfaces = {"storage", "payment", "email", "generation",
                                                      "privacy"};
  return interfaces;
}

Compatibility check_compatibility(const PluginManifest& manifest) {
  Compatibility result;
  for (const char* field : kSignatureFields) {
    const std::string expected = host_signature().at(field);
    const std::string found = value_or_missing(manifest.build, field);
    if (expected != found) result.mismatches.push_back({field, expected, found});
  }
  check_interface_version("sdk", manifest, result.mismatches);
  for (const auto& interface : manifest.implements) {
    if (host_signature().count(interface) == 0 || interface == "sdk") {
      result.mismatches.push_back({"interface " + interface, "one of storage, payment, email, generation, privacy",
                                   interface + " (unknown to this server)"});
      continue;
    }
    check_interface_version(interface, manifest, result.mismatches);
  }
  return result;
}

std::optional<std::string> manifest_refusal(const PluginManifest& manifest) {
  for (const auto& category : manifest.personal_data) {
    if (std::find(std::begin(sdk::kPersonalDataCategories), std::end(sdk::kPersonalDataCategories), category) !=
        std::end(sdk::kPersonalDataCategories)) {
      continue;
    }
    std::string known;
    for (const auto name : sdk::kPersonalDataCategories) known += (known.empty() ? "" : ", ") + std::string(name);
    return fmt::format("declares the personal data category '{}', which is not one of: {}", category, known);
  }
  if (manifest.personal_data.empty() || manifest.implements_interface("privacy")) return std::nullopt;
  std::string categories;
  for (const auto& category : manifest.personal_data) categories += (categories.empty() ? "" : ", ") + category;
  return fmt::format("declares personal data ({}) but does not implement the privacy participant interface, so its data "
                     "could not be exported or erased",
                     categories);
}

std::string Compatibility::describe(const std::filesystem::path& file) const {
  if (compatible()) return fmt::format("{}: compatible with this server", file.string());
  std::string message = fmt::format("{}: incompatible with this server:", file.string());
  for (const auto& mismatch : mismatches) {
    message += fmt::format(" {}: expected {}, found {};", mismatch.field, mismatch.expected, mismatch.found);
  }
  message += fmt::format(" rebuild the plugin against Framehouse SDK {} (find_package(FramehouseSDK {})) with the server's toolchain",
                         host_signature().at("sdk"), host_signature().at("sdk"));
  return message;
}

}  // namespace framehouse::plugins
