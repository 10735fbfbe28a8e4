cmake_minimum_required(VERSION 3.17)  # CMAKE_CURRENT_FUNCTION_LIST_DIR

# framehouse_add_plugin(<name> MANIFEST <plugin.json> SOURCES <src>... [OUTPUT_DIRECTORY <dir>])
#
# Builds a Framehouse plugin as a MODULE library named <name>.so with hidden symbol
# visibility (so one plugin's symbols never shadow another's), no undefined symbols, and the
# manifest plus this build's signature embedded where the host reads them before loading.

function(framehouse_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "MANIFEST;OUTPUT_DIRECTORY" "SOURCES")
  if(NOT ARG_MANIFEST)
    message(FATAL_ERROR "framehouse_add_plugin(${name}): MANIFEST is required")
  endif()
  get_filename_component(manifest "${ARG_MANIFEST}" ABSOLUTE)
  file(READ "${manifest}" FRAMEHOUSE_MANIFEST_JSON)
  set(FRAMEHOUSE_MANIFEST_FILE "${manifest}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${manifest}")
  set(generated "${CMAKE_CURRENT_BINARY_DIR}/${name}_manifest.cpp")
  configure_file("${CMAKE_CURRENT_FUNCTION_LIST_DIR}/plugin_manifest.cpp.in" "${generated}" @ONLY)

  add_library(${name} MODULE ${ARG_SOURCES} "${generated}")
  set_target_properties(${name} PROPERTIES FRAMEHOUSE_MANIFEST "${manifest}")  # for framehouse_add_conformance_test()
  target_link_libraries(${name} PRIVATE Framehouse::sdk)
  target_link_options(${name} PRIVATE "LINKER:-z,defs")
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
endfunction()
