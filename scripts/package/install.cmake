# What `cmake --install` puts under the prefix, and what the .deb adds (component "deb").
#   bin/presence-agent
#   share/presence-agent/dashboard/           the supervisor page (the binary looks for it at
#                                             <exe dir>/../share/presence-agent/dashboard, so the
#                                             layout is fixed, not GNUInstallDirs')
#   share/man/man1/presence-agent.1.gz        generated from the command line (agent/cli/)
#   share/doc/presence-agent/                 README, architecture notes, samples/ (with the
#                                             Grafana dashboard)
# Only in the package (absolute paths, EXCLUDE_FROM_ALL so `cmake --install` never writes /etc):
#   /etc/presence-agent/presence.json         the service's configuration (a conffile)
#   lib/systemd/system/presence-agent.service
set(PRESENCE_PACKAGE_DIR ${CMAKE_SOURCE_DIR}/scripts/package)

install(TARGETS presence-agent RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/dashboard/ DESTINATION share/presence-agent/dashboard
        PATTERN screenshot.png EXCLUDE)
install(FILES ${CMAKE_BINARY_DIR}/presence-agent.1.gz DESTINATION share/man/man1)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/architecture.md
        DESTINATION share/doc/presence-agent)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/samples/ DESTINATION share/doc/presence-agent/samples)

install(FILES ${PRESENCE_PACKAGE_DIR}/presence.json DESTINATION /etc/presence-agent
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${PRESENCE_PACKAGE_DIR}/presence-agent.service DESTINATION lib/systemd/system
        COMPONENT deb EXCLUDE_FROM_ALL)
