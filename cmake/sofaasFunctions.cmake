# sofaas_add_function(NAME SOURCES file... [LINK_LIBRARIES target...])
#
# Builds NAME.so, a function library for `sofaas deploy`: a MODULE (loaded with dlopen,
# never linked against) using the sofaas::sdk headers, with no "lib" prefix and hidden
# visibility, so that it exports the ABI symbols the SDK marks (sofaas_abi_version,
# sofaas_handler, sofaas_init) and nothing else of its own. C++ sources are compiled as
# C++17 at least, which the C++ SDK needs.
#
# Used by the example functions in this repository and installed with the CMake package
# (find_package(sofaas CONFIG)).
function(sofaas_add_function name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LINK_LIBRARIES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sofaas_add_function(${name}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "sofaas_add_function(${name}): SOURCES is empty")
  endif()
  add_library(${name} MODULE ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE sofaas::sdk ${arg_LINK_LIBRARIES})
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(CXX IN_LIST languages)
    target_compile_features(${name} PRIVATE cxx_std_17)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
