#include <gtest/gtest.h>

#include "plugins/compatibility.hpp"

namespace framehouse::plugins {
namespace {

PluginManifest manifest_like_host(std::vector<std::string> implements) {
  PluginManifest manifest;
  manifest.name = "sample";
  manifest.version = "1.0.0";
  manifest.implements = std::move(implements);
  manifest.build = host_signature();
  return manifest;
}

TEST(Compatibility, PersonalDataMustBeKnownCategoriesAndErasable) {
  auto manifest = manifest_like_host({"storage", "privacy"});
  manifest.personal_data = {"user_content", "email_address"};
  EXPECT_FALSE(manifest_refusal(manifest));
  manifest.personal_data = {"user_content", "emial_address"};  // a typo would disable rectification
  const auto typo = manifest_refusal(manifest);
  ASSERT_TRUE(typo);
  EXPECT_NE(typo->find("'emial_address', which is not one of: account, email_address, name"), std::string::npos) << *typo;
  manifest.personal_data = {"user_content"};
  manifest.implements = {"storage"};
  const auto unerasable = manifest_refusal(manifest);
  ASSERT_TRUE(unerasable);
  EXPECT_NE(unerasable->find("does not implement the privacy participant interface"), std::string::npos);
}

TEST(Compatibility, ParsesSignature) {
  const auto fields = parse_signature("compiler=gcc-12;boost=108100;storage=1.0");
  EXPECT_EQ(fields.at("compiler"), "gcc-12");
  EXPECT_EQ(fields.at("boost"), "108100");
  EXPECT_EQ(fields.at("storage"), "1.0");
}

TEST(Compatibility, SameBuildIsCompatible) {
  EXPECT_TRUE(check_compatibility(manifest_like_host({"storage", "privacy"})).compatible());
}

TEST(Compatibility, OlderMinorLoadsNewerMinorAndOtherMajorDoNot) {
  auto manifest = manifest_like_host({"storage"});
  const auto host_storage = host_signature().at("storage");
  const int major = host_storage[0] - '0';
  manifest.build["storage"] = std::to_string(major) + ".0";
  EXPECT_TRUE(check_compatibility(manifest).compatible());

  manifest.build["storage"] = std::to_string(major) + ".99";
  auto verdict = check_compatibility(manifest);
  ASSERT_EQ(verdict.mismatches.size(), 1u);
  EXPECT_EQ(verdict.mismatches[0].field, "storage interface");
  EXPECT_EQ(verdict.mismatches[0].found, std::to_string(major) + ".99");

  manifest.build["storage"] = std::to_string(major + 1) + ".0";
  EXPECT_FALSE(check_compatibility(manifest).compatible());
}

TEST(Compatibility, OnlyImplementedInterfacesAreChecked) {
  auto manifest = manifest_like_host({"storage"});
  manifest.build["payment"] = "9.0";
  EXPECT_TRUE(check_compatibility(manifest).compatible());
}

TEST(Compatibility, ReportsEveryMismatchInOneMessage) {
  auto manifest = manifest_like_host({"storage", "teleport"});
  manifest.build["compiler"] = "gcc-99";
  manifest.build["stdlib_debug"] = "on";
  manifest.build.erase("cxx_abi");
  const auto verdict = check_compatibility(manifest);
  EXPECT_EQ(verdict.mismatches.size(), 4u);
  const std::string message = verdict.describe("/plugins/sample.so");
  EXPECT_NE(message.find("/plugins/sample.so: incompatible"), std::string::npos) << message;
  EXPECT_NE(message.find("compiler: expected " + host_signature().at("compiler") + ", found gcc-99"), std::string::npos);
  EXPECT_NE(message.find("cxx_abi: expected " + host_signature().at("cxx_abi") + ", found (missing)"), std::string::npos);
  EXPECT_NE(message.find("stdlib_debug: expected off, found on"), std::string::npos);
  EXPECT_NE(message.find("interface teleport"), std::string::npos);
}

// Only what shapes the objects that cross the boundary: another Boost, or a plugin built
// without NDEBUG, loads.
TEST(Compatibility, BoostVersionAndBuildTypeDoNotMatter) {
  auto manifest = manifest_like_host({"storage"});
  manifest.build["boost"] = "107400";
  manifest.build["build"] = "debug";
  EXPECT_TRUE(check_compatibility(manifest).compatible());
}

}  // namespace
}  // namespace framehouse::plugins
