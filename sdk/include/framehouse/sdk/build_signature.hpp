// Framehouse SDK — the build signature compiled into every plugin and into the host.
//
// Plugins exchange C++ objects (std::string, std::vector, virtual classes) with the host, so
// both sides must agree on everything that shapes those objects. The host compares this
// string field by field before it runs any plugin code and names every mismatch.
#pragma once

#include <boost/version.hpp>

#include "framehouse/sdk/version.hpp"

#if defined(__clang__)
#define FRAMEHOUSE_COMPILER_ID "clang-" FRAMEHOUSE_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define FRAMEHOUSE_COMPILER_ID "gcc-" FRAMEHOUSE_STRINGIFY(__GNUC__)
#else
#error "Framehouse plugins are built with GCC or Clang"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define FRAMEHOUSE_CXX_ABI "libstdc++-cxx11-" FRAMEHOUSE_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define FRAMEHOUSE_CXX_ABI "other"
#endif

#if defined(NDEBUG)
#define FRAMEHOUSE_BUILD_KIND "release"
#else
#define FRAMEHOUSE_BUILD_KIND "debug"
#endif

#define FRAMEHOUSE_BUILD_SIGNATURE                      \
  "compiler=" FRAMEHOUSE_COMPILER_ID                    \
  ";cxx_abi=" FRAMEHOUSE_CXX_ABI                        \
  ";boost=" FRAMEHOUSE_STRINGIFY(BOOST_VERSION)         \
  ";build=" FRAMEHOUSE_BUILD_KIND ";" FRAMEHOUSE_INTERFACE_VERSIONS
