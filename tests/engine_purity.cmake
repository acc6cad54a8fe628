# CTest engine_is_pure: every source of agent/engine/ compiles on its own without reaching a
# Poco header (the engine is plain C++: issue 12). Run as
#   cmake -DCOMPILER=... -DSOURCE_DIR=... -P tests/engine_purity.cmake
file(GLOB sources ${SOURCE_DIR}/agent/engine/*.cc ${SOURCE_DIR}/agent/engine/*.h)
foreach(source IN LISTS sources)
  execute_process(
    COMMAND ${COMPILER} -std=c++20 -x c++ -I${SOURCE_DIR} -H -fsyntax-only ${source}
    RESULT_VARIABLE result
    ERROR_VARIABLE included
    OUTPUT_QUIET)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${source} does not compile on its own:\n${included}")
  endif()
  string(REGEX MATCHALL "[^\n]*Poco/[^\n]*" poco "${included}")
  if(poco)
    list(GET poco 0 first)
    message(FATAL_ERROR "${source} reaches a Poco header: ${first}")
  endif()
  message(STATUS "${source}: no Poco header")
endforeach()
