# The Debian package (scripts/package.sh runs `cpack` in the build folder):
# presence-agent_<version>_<arch>.deb with the files of install.cmake, the systemd unit, the
# configuration as a conffile and the maintainer scripts of this folder.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME presence-agent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Presence states, wrap-up and time tracking for call centers")
set(CPACK_PACKAGE_DESCRIPTION
    "Keeps every call-center agent's presence state, changes it around calls, pushes each change\n\
to the phone system and other presence systems, records the time spent in each state and\n\
serves a live supervisor dashboard, a REST API and Prometheus metrics. Runs as the systemd\n\
service presence-agent.service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# The regular files and the package-only ones (install.cmake), into one package.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_BINARY_DIR};presence-agent;Unspecified;/"
    "${CMAKE_BINARY_DIR};presence-agent;deb;/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Presence Agent maintainers <presence-agent@localhost>")
# adduser for postinst, procps for the unit's /bin/kill, tzdata for reports in local time.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps, tzdata")
# The shared libraries the binary links, as dpkg-shlibdeps (dpkg-dev) finds their packages.
find_program(PRESENCE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(PRESENCE_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  # What dpkg-shlibdeps finds on Debian 12 (`dpkg-deb --field build/presence-agent_*.deb Depends`).
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS
         ", libc6, libcpprest2.10, libdate-tz3, libgcc-s1, libpococrypto80, libpocofoundation80,"
         " libpocojson80, libpocojwt80, libpoconet80, libpoconetssl80, libpocoxml80, libre0,"
         " libsqlite3-0, libssl3, libstdc++6")
  if(PRESENCE_JEMALLOC)
    string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libjemalloc2")
  endif()
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PRESENCE_PACKAGE_DIR}/conffiles ${PRESENCE_PACKAGE_DIR}/postinst
    ${PRESENCE_PACKAGE_DIR}/prerm ${PRESENCE_PACKAGE_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
