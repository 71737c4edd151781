// src/compiled_double.cpp — vaelet::compiled's double instantiations (src/compiled.inc).
#define VAELET_COMPILED_SCALAR double
#include "compiled.inc"
