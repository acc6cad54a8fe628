# cmake -DAGENT=<presence-agent> -DOUTPUT=<dir>/presence-agent.1 -P man_page.cmake
# Writes the manual page from the binary's command line, and OUTPUT.gz beside it (gzip -9n:
# no name or time stamp inside, so the same page gives the same bytes).
# In a sanitizer build (scripts/check.sh) a leak report at exit must not fail the build: the
# tests are where reports count.
execute_process(COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 ${AGENT} man
                OUTPUT_FILE ${OUTPUT} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${AGENT} man failed: ${status}")
endif()
execute_process(COMMAND gzip -9 -n -c ${OUTPUT} OUTPUT_FILE ${OUTPUT}.gz RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "gzip of ${OUTPUT} failed: ${status}")
endif()
