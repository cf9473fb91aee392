# SOFAAS_COMMIT: the commit this tree was configured from, "unknown" outside a git
# checkout (a source tarball). Read at configure time: a build after new commits without a
# new configure reports the older commit.
set(SOFAAS_COMMIT unknown)
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    OUTPUT_VARIABLE commit RESULT_VARIABLE status OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(status EQUAL 0 AND commit)
    set(SOFAAS_COMMIT ${commit})
  endif()
endif()

# common/version.h, included by the two programs that print it (--version).
configure_file(${CMAKE_SOURCE_DIR}/src/common/version.h.in ${CMAKE_BINARY_DIR}/generated/common/version.h @ONLY)
add_library(sofaas_version INTERFACE)
target_include_directories(sofaas_version INTERFACE ${CMAKE_BINARY_DIR}/generated)
