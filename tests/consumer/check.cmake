# tests/consumer/check.cmake — build tests/consumer against this vaelet and run it (a ctest test, run as cmake -P).
#
#   MODE=find_package      install VAELET_BINARY_DIR into WORK_DIR/prefix, then find_package(vaelet) from there
#   MODE=add_subdirectory  add_subdirectory(VAELET_SOURCE_DIR)
# MODE=find_package also builds the program in the compiled mode (vaelet::compiled, from the installed sources).
# Also given: WORK_DIR (emptied first), GENERATOR, CXX, EXPECTED_VERSION, WITH_MPI (ON: also build and run a
# program on vaelet::mpi, as one process). Any failing step fails the test and shows that step's output.

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "consumer.${MODE}: this failed (${result}):\n  ${command}\n${output}")
    endif()
    set(output "${output}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(configure -S "${CMAKE_CURRENT_LIST_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}"
              "-DWITH_MPI=${WITH_MPI}")
if(MODE STREQUAL "find_package")
    run("${CMAKE_COMMAND}" --install "${VAELET_BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
    # Only here is vaelet::compiled built too: from the installed sources, which is the path most likely to break.
    list(APPEND configure "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DWITH_COMPILED=ON)
elseif(MODE STREQUAL "add_subdirectory")
    list(APPEND configure "-DVAELET_SOURCE_DIR=${VAELET_SOURCE_DIR}")
else()
    message(FATAL_ERROR "MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()
run("${CMAKE_COMMAND}" ${configure})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/vaelet_consumer")
string(FIND "${output}" "vaelet ${EXPECTED_VERSION}:" at)
if(at EQUAL -1)
    message(FATAL_ERROR "consumer.${MODE}: expected 'vaelet ${EXPECTED_VERSION}:' in the program's output, got:\n${output}")
endif()
message(STATUS "${output}")
if(MODE STREQUAL "find_package")
    run("${WORK_DIR}/build/vaelet_consumer_compiled")
    message(STATUS "compiled mode: ${output}")
endif()
if(EXISTS "${WORK_DIR}/build/vaelet_consumer_openmp")
    run("${WORK_DIR}/build/vaelet_consumer_openmp")
    message(STATUS "${output}")
endif()
if(WITH_MPI)
    run("${WORK_DIR}/build/vaelet_consumer_mpi")
    message(STATUS "${output}")
endif()
