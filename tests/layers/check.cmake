# tests/layers/check.cmake — the library's layers, checked: each folder of include/vaelet/ may include only the
# folders listed for it below (a ctest test, run as cmake -P). Lower folders never include higher ones, and the
# readers in data/ know nothing above core/.
#
#   cmake -D INCLUDE_DIR=include/vaelet -P tests/layers/check.cmake
#
# Fails listing every #include "vaelet/…" that crosses a layer, by file. Top-level headers other than
# the umbrella vaelet.hpp (version.hpp) may be included anywhere; vaelet.hpp itself is not checked.
cmake_minimum_required(VERSION 3.25)  # as the project: IN_LIST and file(REAL_PATH)

set(allowed_core core)
set(allowed_nn core nn)
set(allowed_vae core nn vae)
set(allowed_optim core nn optim)
set(allowed_data core data)
set(allowed_io core nn io)
set(allowed_stats core stats)
set(allowed_deploy core nn vae deploy)
set(allowed_parallel core parallel)
set(allowed_train core nn vae optim data io stats parallel train)
# A header may be held to less than its folder: the safetensors format itself knows no model (the bridge to
# parameters is io/safetensors_parameters.hpp).
set(allowed_io/safetensors.hpp core io)

if(NOT IS_DIRECTORY "${INCLUDE_DIR}")
    message(FATAL_ERROR "layers: INCLUDE_DIR '${INCLUDE_DIR}' is not a directory; "
                        "pass -D INCLUDE_DIR=<…>/include/vaelet")
endif()
file(REAL_PATH "${INCLUDE_DIR}" INCLUDE_DIR)  # GLOB … RELATIVE needs an absolute path

set(violations "")
file(GLOB folders LIST_DIRECTORIES true RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/*")
foreach(folder IN LISTS folders)
    if(NOT IS_DIRECTORY "${INCLUDE_DIR}/${folder}")
        continue()
    endif()
    if(NOT DEFINED allowed_${folder})
        string(APPEND violations "\n  ${folder}/ is a folder this check does not know: give it its layer in "
                                 "tests/layers/check.cmake")
        continue()
    endif()
    file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/${folder}/*")
    foreach(header IN LISTS headers)
        # Only the include lines: file(STRINGS) drops empty lines and splits at ';', so no line numbers.
        file(STRINGS "${INCLUDE_DIR}/${header}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]vaelet/")
        foreach(line IN LISTS includes)
            string(REGEX MATCH "vaelet/([^\">]+)" _ "${line}")
            set(target "${CMAKE_MATCH_1}")
            if(target MATCHES "^([^/]+)/")
                set(to "${CMAKE_MATCH_1}")
            elseif(target STREQUAL "vaelet.hpp")
                set(to "the umbrella")
            else()
                continue()  # version.hpp: below every layer
            endif()
            if(DEFINED allowed_${header})
                set(rule allowed_${header})
                set(who "${header}")
            else()
                set(rule allowed_${folder})
                set(who "${folder}/")
            endif()
            if(NOT to IN_LIST ${rule})
                list(JOIN ${rule} "/, " may)
                string(APPEND violations "\n  ${header} includes vaelet/${target}, but ${who} may include only ${may}/")
            endif()
        endforeach()
    endforeach()
endforeach()

if(violations)
    message(FATAL_ERROR "layers: includes that cross the library's layers (in ${INCLUDE_DIR}):${violations}\n"
                        "Move what both sides need into a folder below both (core/ is below all).")
endif()
message(STATUS "layers: every header of ${INCLUDE_DIR} includes only the layers below it")
