/// \file
/// vaelet/core/extern_templates.hpp — the switch between header-only (the default) and the compiled mode.
///
/// Header-only, every translation unit that uses Tape<float>, the ops or Vae<float> instantiates and optimizes them
/// again: most of a user's compile time (docs/performance.md, "Compile time"). In the compiled mode, which linking
/// vaelet::compiled turns on (it defines VAELET_COMPILED), each header declares its heavy templates
/// `extern template` for float and double, so a translation unit compiles only its own code, and the library
/// vaelet::compiled (src/compiled_float.cpp, src/compiled_double.cpp) makes each instantiation once.
///
/// Each header lists its templates in one macro, `VAELET_<HEADER>_TEMPLATES(prefix, T)`, and hands it to
/// VAELET_EXTERN_TEMPLATES at its end, inside namespace vaelet; src/ expands the same lists with an empty prefix.
/// A template left off a list still works: it is only compiled in every translation unit that uses it, as before.
#pragma once

/// Hands a header's template list to the compiled mode: expands to `list(extern, float) list(extern, double)`
/// when VAELET_COMPILED is defined (linking vaelet::compiled), to nothing when header-only.
#if defined(VAELET_COMPILED)
#define VAELET_EXTERN_TEMPLATES(list) list(extern, float) list(extern, double)
#else
#define VAELET_EXTERN_TEMPLATES(list)
#endif
