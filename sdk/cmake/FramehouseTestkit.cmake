# FramehouseSDK::testkit — a fake host and the conformance suites, compiled with the plugin
# author's own compiler (so nothing about its ABI is assumed) — and
#
#   framehouse_add_conformance_test(<plugin target> [CONFIG key=value ...] [WRAPPER script])
#
# which adds the test <plugin>_conformance: the plugin file, started on a fake host with the
# defaults of its manifest's config and then CONFIG, runs the conformance suite of every
# interface it provides. A plugin that needs a service (a mail relay, an object store) names a
# WRAPPER that starts one, appends `--config key=value` arguments for it to the command it is
# given, runs it and stops the service. Needs GoogleTest (Debian: libgtest-dev) and
# enable_testing().
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/testkit")
  set(_framehouse_testkit_dir "${CMAKE_CURRENT_LIST_DIR}/testkit")  # installed beside this file
else()
  set(_framehouse_testkit_dir "${CMAKE_CURRENT_LIST_DIR}/../testkit")  # in the SDK's source tree
endif()

if(NOT TARGET framehouse_testkit)
  find_package(GTest REQUIRED)
  add_library(framehouse_testkit STATIC
    "${_framehouse_testkit_dir}/src/conformance.cpp"
    "${_framehouse_testkit_dir}/src/email_checks.cpp"
    "${_framehouse_testkit_dir}/src/fake_host.cpp"
    "${_framehouse_testkit_dir}/src/generation_checks.cpp"
    "${_framehouse_testkit_dir}/src/payment_checks.cpp"
    "${_framehouse_testkit_dir}/src/plugin_file.cpp"
    "${_framehouse_testkit_dir}/src/privacy_checks.cpp"
    "${_framehouse_testkit_dir}/src/sinks.cpp"
    "${_framehouse_testkit_dir}/src/storage_checks.cpp")
  target_include_directories(framehouse_testkit
    PUBLIC "${_framehouse_testkit_dir}/include"
    PRIVATE "${_framehouse_testkit_dir}/src")
  target_link_libraries(framehouse_testkit PUBLIC Framehouse::sdk GTest::gtest ${CMAKE_DL_LIBS})
  add_library(FramehouseSDK::testkit ALIAS framehouse_testkit)
endif()

function(framehouse_add_conformance_test plugin)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "WRAPPER" "CONFIG")
  # The manifest's defaults first, as the host fills them in; CONFIG then overrides.
  set(config_args "")
  get_target_property(manifest ${plugin} FRAMEHOUSE_MANIFEST)
  if(manifest)
    file(READ "${manifest}" manifest_json)
    string(JSON keys ERROR_VARIABLE no_config LENGTH "${manifest_json}" config)
    if(NOT no_config AND keys GREATER 0)
      math(EXPR last "${keys} - 1")
      foreach(index RANGE ${last})
        string(JSON key MEMBER "${manifest_json}" config ${index})
        string(JSON kind ERROR_VARIABLE no_default TYPE "${manifest_json}" config ${key} default)
        if(no_default OR kind STREQUAL "ARRAY" OR kind STREQUAL "OBJECT" OR kind STREQUAL "NULL")
          continue()
        endif()
        string(JSON value GET "${manifest_json}" config ${key} default)
        if(kind STREQUAL "BOOLEAN")
          if(value)
            set(value true)
          else()
            set(value false)
          endif()
        endif()
        list(APPEND config_args --config "${key}=${value}")
      endforeach()
    endif()
  endif()
  foreach(assignment IN LISTS ARG_CONFIG)
    list(APPEND config_args --config "${assignment}")
  endforeach()
  add_executable(${plugin}_conformance "${_framehouse_testkit_dir}/src/conformance_main.cpp")
  target_link_libraries(${plugin}_conformance PRIVATE FramehouseSDK::testkit)
  add_dependencies(${plugin}_conformance ${plugin})
  # WRAPPER: a script that starts a service the plugin needs, runs the command it is given
  # with --config arguments for that service appended, and stops the service.
  set(wrapper "")
  if(ARG_WRAPPER)
    set(wrapper "${ARG_WRAPPER}")
  endif()
  add_test(NAME ${plugin}_conformance
           COMMAND ${wrapper} $<TARGET_FILE:${plugin}_conformance> --plugin $<TARGET_FILE:${plugin}> ${config_args})
endfunction()
