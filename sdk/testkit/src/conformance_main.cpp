// The conformance test of one plugin file:
//   <plugin>_conformance --plugin PATH [--config key=value ...] [GoogleTest flags]
#include <cstring>
#include <iostream>

#include <gtest/gtest.h>

#include "framehouse/testkit/conformance.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  framehouse::testkit::ConformanceTarget target;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
      target.plugin = argv[++i];
    } else if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      target.config.emplace_back(argv[++i]);
    } else {
      std::cerr << "unknown argument: " << argv[i] << "\nusage: " << argv[0] << " --plugin PATH [--config key=value ...]\n";
      return 2;
    }
  }
  if (target.plugin.empty()) {
    std::cerr << "usage: " << argv[0] << " --plugin PATH [--config key=value ...]\n";
    return 2;
  }
  const auto interfaces = framehouse::testkit::register_conformance_tests(target);
  std::cout << target.plugin.filename().string() << " provides:";
  for (const auto& name : interfaces) std::cout << ' ' << name;
  std::cout << '\n';
  return RUN_ALL_TESTS();
}
