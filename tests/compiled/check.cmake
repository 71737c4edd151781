# tests/compiled/check.cmake — every header's list of templates (VAELET_<HEADER>_TEMPLATES, declared extern in the
# compiled mode) is expanded in src/compiled.inc. A list left out there would leave its instantiations undefined,
# and a program in the compiled mode that uses one would fail to link. Run as cmake -P with INCLUDE_DIR and
# COMPILED_INC.
file(GLOB_RECURSE headers "${INCLUDE_DIR}/*.hpp")
file(READ "${COMPILED_INC}" compiled)
set(missing "")
set(count 0)
foreach(header IN LISTS headers)
    file(STRINGS "${header}" defines REGEX "^#define VAELET_[A-Z_]+_TEMPLATES\\(prefix, T\\)")
    foreach(line IN LISTS defines)
        string(REGEX MATCH "VAELET_[A-Z_]+_TEMPLATES" list_name "${line}")
        math(EXPR count "${count} + 1")
        if(NOT compiled MATCHES "\n${list_name}\\(, VAELET_COMPILED_SCALAR\\)")
            file(RELATIVE_PATH rel "${INCLUDE_DIR}" "${header}")
            string(APPEND missing "\n  ${list_name} (${rel})")
        endif()
    endforeach()
endforeach()
if(count EQUAL 0)
    message(FATAL_ERROR "no VAELET_*_TEMPLATES list found under ${INCLUDE_DIR}: the check reads nothing")
endif()
if(missing)
    message(FATAL_ERROR "src/compiled.inc does not expand these lists; add `<LIST>(, VAELET_COMPILED_SCALAR)` for each "
                        "(inside #if defined(VAELET_HAVE_X) when its header needs an optional dependency):${missing}")
endif()
message(STATUS "all ${count} template lists are expanded in src/compiled.inc")
