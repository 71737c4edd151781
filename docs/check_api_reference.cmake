# docs/check_api_reference.cmake — ctest's docs.api_reference (cmake -P): run Doxygen (DOXYGEN, DOXYFILE,
# WARNINGS) and fail, listing them, when it warns: every public symbol documented, every reference resolved.
file(REMOVE "${WARNINGS}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}" RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "docs.api_reference: doxygen failed (${result}):\n${output}")
endif()
file(STRINGS "${WARNINGS}" warnings)
list(LENGTH warnings count)
if(count GREATER 0)
    list(JOIN warnings "\n" text)
    message(FATAL_ERROR "docs.api_reference: ${count} Doxygen warnings (document the symbol where it is declared, "
                        "with ///, or fix the reference):\n${text}")
endif()
message(STATUS "docs.api_reference: no warnings")
