# `make install` and `make deb`: the binaries, the workspace pages and flows
# (found by the server beside its binary: share/callrec), a default config in
# /etc/callrec, the systemd unit, the docs. CPack builds the Debian package;
# its postinst makes the service's user and state directory.
include(GNUInstallDirs)

install(TARGETS callrec-server callrec callrec-callgen RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/callrec/web
        PATTERN "README.md" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/flows/ DESTINATION ${CMAKE_INSTALL_DATADIR}/callrec/flows
        FILES_MATCHING PATTERN "*.json")
install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/callrec-server.toml
        DESTINATION /etc/callrec)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/callrec-server.service
        DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/deploy/callrec-server.example.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The pages the README links (docs/*.md), beside it as in the source tree.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")
# Several nodes as one service (docs/cluster.md).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/kamailio/kamailio.cfg
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/kamailio)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/haproxy/haproxy.cfg
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/haproxy)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME callrec)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "callrec maintainers <callrec@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Agent-controlled call recording: SIPREC recorder with an Amazon Connect-compatible API")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/deploy/debian/postinst;${PROJECT_SOURCE_DIR}/deploy/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
