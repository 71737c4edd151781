// src/compiled_float.cpp — vaelet::compiled's float instantiations (src/compiled.inc).
#define VAELET_COMPILED_SCALAR float
#include "compiled.inc"
