// Framehouse SDK — the build signature compiled into every plugin and into the host.
//
// Plugins exchange C++ objects (std::string, std::vector, std::map, virtual classes,
// exceptions) with the host, so both sides must agree on what shapes those objects — and only
// that. The host compares these fields before it runs any plugin code and names every mismatch:
//   compiler      the compiler family and major version: the tested pairing for vtables,
//                 exception handling and inline library code.
//   cxx_abi       libstdc++'s dual ABI: the layout of std::string and std::list.
//   stdlib_debug  libstdc++'s debug mode (_GLIBCXX_DEBUG): the layout of every container.
// No Boost type crosses the boundary, so the Boost version is not part of it; NDEBUG changes
// no layout, so release and debug plugins mix.
#pragma once

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

#if defined(_GLIBCXX_DEBUG)
#define FRAMEHOUSE_STDLIB_DEBUG "on"
#else
#define FRAMEHOUSE_STDLIB_DEBUG "off"
#endif

#define FRAMEHOUSE_BUILD_SIGNATURE                      \
  "compiler=" FRAMEHOUSE_COMPILER_ID                    \
  ";cxx_abi=" FRAMEHOUSE_CXX_ABI                        \
  ";stdlib_debug=" FRAMEHOUSE_STDLIB_DEBUG ";" FRAMEHOUSE_INTERFACE_VERSIONS
