// tests/fuzz/make_corpus.cpp — writes the seed corpora of the fuzz targets: small valid files made by vaelet's own
// writers, plus edge cases. The corpus is committed; run this again only when a format changes.
//
//   build/fuzz/bin/fuzz_make_corpus tests/fuzz/corpus          # rewrites corpus/{idx,safetensors,checkpoint,csv}
//
// Files whose names start with "regress-" are inputs that once found a bug; this program leaves them alone.
#include "tiny_run.hpp"

#include "vaelet/data/idx.hpp"

#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using Bytes = std::string;

Bytes read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void put(const fs::path& dir, const std::string& name, const Bytes& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
}

Bytes gzip(const Bytes& raw, const fs::path& scratch) {
    gzFile g = gzopen(scratch.c_str(), "wb9");
    gzwrite(g, raw.data(), static_cast<unsigned>(raw.size()));
    gzclose(g);
    return read_all(scratch);
}

// The first byte of an IDX or CSV input (the mode or options byte of fuzz_idx.cpp, fuzz_csv.cpp).
Bytes mode(int bits) { return Bytes(1, static_cast<char>(bits)); }

// IDX inputs: mode byte (bit 0 labels, bit 1 gzip in the harness), then the file.
void idx_corpus(const fs::path& out, const fs::path& tmp) {
    const auto& data = vaelet::fuzz::tiny_data();
    vaelet::write_idx_images(tmp / "images", data);
    vaelet::write_idx_labels(tmp / "labels", data.labels());
    const Bytes images = read_all(tmp / "images"), labels = read_all(tmp / "labels");
    put(out, "images", mode(0) + images);
    put(out, "labels", mode(1) + labels);
    put(out, "images-via-gzip", mode(2) + images);
    put(out, "labels-via-gzip", mode(3) + labels);
    put(out, "images-gzipped", mode(0) + gzip(images, tmp / "gz"));  // a real .gz file, read as it is
    put(out, "labels-as-images", mode(0) + labels);
    put(out, "images-truncated", mode(0) + images.substr(0, images.size() - 1));
    put(out, "images-header-only", mode(2) + images.substr(0, 16));
}

// A safetensors file in the other input form of the safetensors-based targets: JSON header, NUL, data.
Bytes split_form(const Bytes& file) {
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(file[std::size_t(i)])) << (8 * i);
    return file.substr(8, n) + '\0' + file.substr(8 + n);
}

// Puts a safetensors file into the corpus in both input forms.
void put_safetensors(const fs::path& dir, const std::string& name, const Bytes& file) {
    put(dir, name, file);
    put(dir, name + "-split", split_form(file));
}

void safetensors_corpus(const fs::path& out, const fs::path& tmp) {
    const auto save = [&](const std::string& name, const vaelet::SafeTensors& st) {
        vaelet::save_safetensors((tmp / name).string(), st);
        put_safetensors(out, name, read_all(tmp / name));
    };
    vaelet::SafeTensors tiny;
    vaelet::Matrix<float> w(2, 3);
    w << 1, -2, 3.5f, 0, 1e-3f, -0.f;
    tiny.put_matrix("fc.weight", w);
    tiny.put_matrix("fc.bias", vaelet::Matrix<double>::Constant(1, 2, 0.25), /*as_vector=*/true);
    tiny.put_vector<std::uint64_t>("rng", {1, 2, 3, 4});
    tiny.put("step", vaelet::Tensor{vaelet::Dtype::I64, {}, std::vector<std::uint8_t>(8, 7)});  // a scalar
    tiny.metadata["format"] = "pt";
    save("tiny", tiny);

    save("empty", vaelet::SafeTensors{});

    vaelet::SafeTensors odd;  // every dtype once, a zero-size tensor, and a 3-D one
    std::uint8_t fill = 1;
    for (const auto& info : vaelet::detail::dtype_table) {
        vaelet::Tensor t{info.dtype, {2}, std::vector<std::uint8_t>(2 * info.size, fill++)};
        odd.put(std::string("t_") + info.name, std::move(t));
    }
    odd.put("zero", vaelet::Tensor{vaelet::Dtype::F32, {0, 3}, {}});
    odd.put("cube", vaelet::Tensor{vaelet::Dtype::U8, {2, 1, 2}, {1, 2, 3, 4}});
    save("all-dtypes", odd);
}

void checkpoint_corpus(const fs::path& out, const fs::path& tmp) {
    const vaelet::RunConfig config = vaelet::fuzz::tiny_config();
    vaelet::Rng rng(1);
    vaelet::Vae<float> vae(*config.model, rng);
    vaelet::Trainer<float> trainer(vae, vaelet::fuzz::tiny_data(), config.train);
    const auto path = (tmp / "ckpt").string();

    std::atomic<bool> stop{false};
    trainer.on_step([&](const vaelet::StepReport&) { stop = true; });
    trainer.train_epoch(&stop);  // one step: mid-epoch
    vaelet::save_checkpoint(path, trainer, {}, config);
    put_safetensors(out, "mid-epoch", read_all(path));

    stop = false;
    const auto losses = trainer.train_epoch();  // the rest of the epoch
    vaelet::save_checkpoint(path, trainer, {{1, losses, losses, 0.0, 0.0}}, config);
    put_safetensors(out, "epoch-end", read_all(path));
}

void csv_corpus(const fs::path& out) {
    // mode(): the options byte (see fuzz_csv.cpp), then the file
    put(out, "plain", mode(0x01) + "id,a,b,c\n1,2.5,x,red\n2,-3e2,y,blue\n3,0,z,red\n");
    put(out, "declared", mode(0x1f) + "id,a,b,c\r\n7,1,NA,red\r\n8,2,,green\r\n");
    put(out, "quoted",
        mode(0x01) + "\xef\xbb\xbf" "name,\"note, with comma\",x\n\"say \"\"hi\"\"\",\"two\nlines\",1\n\n\"NA\",plain,2");
    put(out, "missing", mode(0x01) + "a,b\n1,NA\nnull,2\n N/A ,nan\n");
    put(out, "limits", mode(0xe1) + "a,b,c\n1,x,p\n2,y,q\n3,z,r\n4,w,s\n");
    put(out, "ids", mode(0x01) + "customerId,user_id,key\n1,a,k1\n2,b,k2\n2,c,k3\n");
    put(out, "ragged", mode(0x01) + "a,b\n1,2,3\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR   (e.g. tests/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1];
    const fs::path tmp = fs::temp_directory_path() / ("vaelet-make-corpus-" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    try {
        idx_corpus(out / "idx", tmp);
        safetensors_corpus(out / "safetensors", tmp);
        checkpoint_corpus(out / "checkpoint", tmp);
        csv_corpus(out / "csv");
    } catch (const vaelet::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fs::remove_all(tmp);
        return 1;
    }
    fs::remove_all(tmp);
    return 0;
}
