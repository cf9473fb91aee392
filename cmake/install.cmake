# What `cmake --install` (and the .deb, cmake/package.cmake) puts where, by GNUInstallDirs:
#
#   sbin/sofaasd                     a daemon only root runs (it makes cgroups and
#                                    namespaces and gives each worker a uid of its own)
#   bin/sofaas                       the CLI, for every user
#   libexec/sofaas/sofaas-worker     run only by sofaasd, which finds it relative to itself
#   share/sofaas/ui/                 the web dashboard's files (/ui/), found by sofaasd so too
#   include/sofaas/                  the function ABI and the C++ SDK
#   share/cmake/sofaas/              find_package(sofaas CONFIG): sofaas::sdk and
#                                    sofaas_add_function()
#   share/pkgconfig/sofaas.pc        pkg-config sofaas (the SDK is headers only: share, not lib)
#   etc/sofaas/sofaasd.json          the default configuration (data in LOCALSTATEDIR/lib/sofaas)
#   lib/systemd/system/sofaasd.service
#
# Every destination is relative to the prefix unless configured otherwise, so that
# `cmake --install build --prefix DIR` stays inside DIR; the .deb sets /usr, /etc and /var.
include(CMakePackageConfigHelpers)

set(SOFAAS_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/sofaas)
set(SOFAAS_STATE_DIR ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/sofaas)
set(SOFAAS_CONFIG_FILE ${CMAKE_INSTALL_FULL_SYSCONFDIR}/sofaas/sofaasd.json)
set(packaging ${CMAKE_SOURCE_DIR}/packaging)
set(generated ${CMAKE_BINARY_DIR}/packaging)

install(TARGETS sofaasd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS sofaas DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS sofaas-worker DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/sofaas)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/ui/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sofaas/ui)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/sofaas DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

# The CMake package.
install(TARGETS sofaas_sdk EXPORT sofaasTargets)
install(EXPORT sofaasTargets NAMESPACE sofaas:: DESTINATION ${SOFAAS_CMAKE_DIR})
configure_package_config_file(${packaging}/sofaasConfig.cmake.in ${generated}/sofaasConfig.cmake
  INSTALL_DESTINATION ${SOFAAS_CMAKE_DIR})
# The SDK is headers only: any architecture may use it.
write_basic_package_version_file(${generated}/sofaasConfigVersion.cmake COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES ${generated}/sofaasConfig.cmake ${generated}/sofaasConfigVersion.cmake
  ${CMAKE_SOURCE_DIR}/cmake/sofaasFunctions.cmake DESTINATION ${SOFAAS_CMAKE_DIR})

# pkg-config: relocatable (paths from the .pc file's own directory).
file(RELATIVE_PATH SOFAAS_PC_TO_INCLUDE ${CMAKE_INSTALL_FULL_DATADIR}/pkgconfig ${CMAKE_INSTALL_FULL_INCLUDEDIR})
configure_file(${packaging}/sofaas.pc.in ${generated}/sofaas.pc @ONLY)
install(FILES ${generated}/sofaas.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)

# The default configuration: config/sofaasd.json with the data in the state directory.
file(READ ${CMAKE_SOURCE_DIR}/config/sofaasd.json config_text)
string(REPLACE "\"data_dir\": \"data\"" "\"data_dir\": \"${SOFAAS_STATE_DIR}\"" installed_config "${config_text}")
if(installed_config STREQUAL config_text)
  message(FATAL_ERROR "config/sofaasd.json has no \"data_dir\": \"data\" line to point at ${SOFAAS_STATE_DIR}")
endif()
file(WRITE ${generated}/sofaasd.json "${installed_config}")
install(FILES ${generated}/sofaasd.json DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/sofaas)

configure_file(${packaging}/sofaasd.service.in ${generated}/sofaasd.service @ONLY)
install(FILES ${generated}/sofaasd.service DESTINATION lib/systemd/system)

install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
