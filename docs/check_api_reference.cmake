# docs/check_api_reference.cmake — ctest's docs.api_reference (cmake -P): run Doxygen (DOXYGEN, DOXYFILE,
# WARNINGS) and fail, listing them, when it warns: every public symbol documented, every reference resolved; and
# when a page it writes shows a Markdown code span it misread, which it does not warn about.
file(REMOVE "${WARNINGS}")
# The HTML goes to the Doxyfile's OUTPUT_DIRECTORY; clear its html/ first, as Doxygen never deletes the pages of a
# guide or header since removed, and they would be checked below. Only an absolute path is cleared.
file(STRINGS "${DOXYFILE}" html REGEX "^OUTPUT_DIRECTORY[ \t]*=")
string(REGEX REPLACE "^OUTPUT_DIRECTORY[ \t]*=[ \t]*\"?([^\"]*)\"?[ \t]*$" "\\1/html" html "${html}")
if(NOT IS_ABSOLUTE "${html}")
    message(FATAL_ERROR "docs.api_reference: no absolute OUTPUT_DIRECTORY in ${DOXYFILE}")
endif()
file(REMOVE_RECURSE "${html}")
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
# Doxygen 1.9.4 still reads `text' as a quotation: inside single backticks a ' followed by a character that cannot
# be part of a name ends the code span, the backticks after it pair up wrongly, and where that crosses table cells
# its internal line-break marker \ilinebr leaks into the page, elsewhere the quotation's &lsquo;. No warning, so
# look for the marks themselves.
file(GLOB_RECURSE pages "${html}/*.html")
set(mangled)
foreach(page IN LISTS pages)
    file(READ "${page}" content)
    if(content MATCHES "ilinebr|&lsquo;")
        list(APPEND mangled "${page}")
    endif()
endforeach()
list(LENGTH mangled count)
if(count GREATER 0)
    list(JOIN mangled "\n" text)
    message(FATAL_ERROR "docs.api_reference: ${count} page(s) show \\ilinebr or &lsquo;, a Markdown code span Doxygen misread "
                        "(usually a ' inside single backticks, as in `cannot open 'PATH': ...`; use double backticks, "
                        "``cannot open 'PATH': ...``, which GitHub renders the same):\n${text}")
endif()
message(STATUS "docs.api_reference: no misread code spans, no warnings")
