// examples/common/export_onnx.cpp — see export_onnx.hpp.
#include "export_onnx.hpp"

#ifdef VAELET_HAVE_ONNX
#include <vaelet/deploy/onnx.hpp>

#include <iostream>
#endif

namespace examples {

void export_onnx_graphs(vaelet::Vae<float>& vae, const std::string& dir) {
#ifdef VAELET_HAVE_ONNX
    for (const vaelet::OnnxFile& f : vaelet::export_onnx(vae, dir)) std::cout << "wrote " << f.path << "  " << f.signature << '\n';
    std::cout << "ONNX opset " << vaelet::onnx_opset << ", float32, any batch size; every graph passed ONNX's checker. "
                 "eps is the noise (zeros: the deterministic reconstruction)\n";
#else
    (void)vae;
    throw vaelet::config_error("cannot export " + dir + ": this program was built without ONNX export; install "
                               "libonnx-dev (Debian) and build again (VAELET_WITH_ONNX=ON)");
#endif
}

}  // namespace examples
