// examples/common/export_onnx.hpp — the `export` subcommand of both programs: a trained model's ONNX graphs
// (vaelet/deploy/onnx.hpp). Its own source file, so that only it parses ONNX's protobuf headers.
#pragma once

#include <vaelet/vae/model.hpp>

#include <string>

namespace examples {

/// Writes DIR/encoder.onnx, decoder.onnx and reconstruction.onnx of `vae` and prints what each takes and gives.
/// In a build without ONNX (VAELET_WITH_ONNX off), a config_error saying how to get one.
void export_onnx_graphs(vaelet::Vae<float>& vae, const std::string& dir);

}  // namespace examples
