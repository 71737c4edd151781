# tests/check_test_names.cmake — every doctest case can be run by ctest (cmake -D SOURCE_DIR=… -P; a ctest test).
#
# doctest_discover_tests reads the case names as a CMake list, so a ';' in a name splits it into names that match
# no case: ctest then runs nothing and reports a pass. (A ',' loses only the case's labels: see tests/CMakeLists.txt.)
file(GLOB_RECURSE sources "${SOURCE_DIR}/tests/*.cpp")
set(bad "")
foreach(source IN LISTS sources)
    file(READ "${source}" text)
    string(REGEX MATCH "TEST_CASE(_TEMPLATE)?\\(\"[^\"\n]*;[^\"\n]*\"" found "${text}")
    if(found)
        string(APPEND bad "\n  ${source}")
    endif()
endforeach()
if(bad)
    message(FATAL_ERROR "a test case name holds ';', so ctest would run none of it; write ', and' or ':' instead, in:${bad}")
endif()
