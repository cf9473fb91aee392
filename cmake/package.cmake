# The .deb (scripts/package.sh: cpack -G DEB in a Release build configured for /usr).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sofaas)
set(CPACK_PACKAGE_VENDOR sofaas)
set(CPACK_PACKAGE_CONTACT "sofaas maintainers <sofaas@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "sofaasd runs functions built as shared libraries (C, C++, Rust) \
in execution environments of their own, under a deadline and a memory limit, and bills \
each invocation; sofaas is its command line. Includes the function SDK headers, a CMake \
package, a pkg-config file and a systemd unit.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps reads the libraries the binaries link (libc6, libstdc++6, libseccomp2,
# libspdlog, libfmt, ...) and writes Depends from them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, pkg-config, g++")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
include(CPack)
