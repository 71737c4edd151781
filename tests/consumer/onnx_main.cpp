// tests/consumer/onnx_main.cpp — a user's program on vaelet::onnx: a small VAE exported as ONNX graphs into the
// directory given (each file checked by ONNX's checker before it is written).
#include <vaelet/deploy/onnx.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    vaelet::Rng rng(1);
    vaelet::VaeConfig config;
    config.input = 12;
    config.hidden = {8};
    config.latent = 2;
    vaelet::Vae<float> vae(config, rng);
    for (const vaelet::OnnxFile& f : vaelet::export_onnx(vae, argv[1])) std::cout << "vaelet::onnx: " << f.signature << '\n';
    return 0;
}
