// tests/fuzz/fuzz_checkpoint.cpp — fuzz target: the checkpoint reader (train/checkpoint.hpp).
//
//   build/fuzz/bin/fuzz_checkpoint -dict=tests/fuzz/checkpoint.dict corpus-dir tests/fuzz/corpus/checkpoint
//
// Input: the file, or its JSON header, a NUL byte and its data (see safetensors_file in fuzz_input.hpp).
// It goes through read_checkpoint_config, load_model<float>, and load_checkpoint into a fresh Trainer of the
// tiny run (tiny_run.hpp); when that loads, the trainer finishes the epoch it resumes, so a checkpoint that
// loads must also leave a state that trains (or fails with a vaelet::error).
#include "fuzz_input.hpp"
#include "tiny_run.hpp"

#include <cstdint>

namespace {

template <class F>
void allow_rejection(F&& f) {
    try {
        f();
    } catch (const vaelet::error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static vaelet::fuzz::InputFile input("checkpoint");
    const std::string& path = input.write(vaelet::fuzz::safetensors_file(data, size));

    allow_rejection([&] { vaelet::read_checkpoint_config(path); });
    allow_rejection([&] { vaelet::load_model<float>(path); });
    allow_rejection([&] {
        const vaelet::RunConfig config = vaelet::fuzz::tiny_config();
        vaelet::Rng rng(1);
        vaelet::Vae<float> vae(*config.model, rng);
        vaelet::Trainer<float> trainer(vae, vaelet::fuzz::tiny_data(), config.train);
        vaelet::load_checkpoint(path, trainer);
        trainer.train_epoch();
    });
    return 0;
}
