# cmake/vaeletCompiled.cmake — vaelet_add_compiled(), shared by CMakeLists.txt and the installed vaeletConfig.cmake.
#
#   vaelet_add_compiled(<name> <usage target> <source dir>)
#   vaelet_add_compiled_targets(<source dir>)     # vaelet::compiled, and vaelet::compiled_openmp with vaelet::openmp
#
# A static library of vaelet's float and double instantiations (<source dir>/compiled_float.cpp and
# compiled_double.cpp), compiled with <usage target>'s settings (vaelet::vaelet, or vaelet::openmp so that the
# convolutions and Eigen's products use threads), that defines VAELET_COMPILED for whatever links it: the compiled
# mode (include/vaelet/core/extern_templates.hpp). Built only when something links it. An installed vaelet makes it
# from its installed sources in the user's own build, with the user's compiler and global flags (CMAKE_CXX_FLAGS):
# a -march given to the user's target alone would not reach it, and Eigen's alignment must be the same on both sides.
function(vaelet_add_compiled name usage source_dir)
    add_library(${name} STATIC EXCLUDE_FROM_ALL ${source_dir}/compiled_float.cpp ${source_dir}/compiled_double.cpp)
    target_link_libraries(${name} PUBLIC ${usage})
    target_compile_definitions(${name} PUBLIC VAELET_COMPILED=1)
endfunction()

# The public targets: vaelet::compiled on vaelet::vaelet, and vaelet::compiled_openmp on vaelet::openmp where that
# target exists. The same for a source tree (CMakeLists.txt) and an installed vaelet (vaeletConfig.cmake).
function(vaelet_add_compiled_targets source_dir)
    vaelet_add_compiled(vaelet_compiled vaelet::vaelet ${source_dir})
    add_library(vaelet::compiled ALIAS vaelet_compiled)
    if(TARGET vaelet::openmp)
        vaelet_add_compiled(vaelet_compiled_openmp vaelet::openmp ${source_dir})
        add_library(vaelet::compiled_openmp ALIAS vaelet_compiled_openmp)
    endif()
endfunction()
