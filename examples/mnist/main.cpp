// vaelet-mnist — train a VAE on MNIST or Fashion-MNIST and use it: sample, reconstruct, interpolate, draw the
// latent manifold, export latents, score images, estimate log-likelihoods, export ONNX graphs. `vaelet-mnist --help` lists it all.
#include "../common/command.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
    CLI::App app{"vaelet-mnist: a variational autoencoder for MNIST-style 28x28 images"};
    app.require_subcommand(1);

    mnist::TrainArgs t;
    auto* train = app.add_subcommand("train", "train a VAE; writes metrics.csv, PNGs and checkpoint.safetensors to --out");
    train->add_option("--data", t.data, "directory with the IDX files (scripts/get-data mnist DIR)")->required();
    auto* epochs = examples::add_train_flags(train, t, "images");
    train->add_option("--arch", t.arch, "mlp, or conv: the convolutional VAE (two stride-2 convolutions, fc1 of "
                      "--hidden 256 by default)")->capture_default_str();
    train->add_option("--conv-channels", t.conv_channels, "--arch conv: channels of each convolution; each halves "
                      "the image")->capture_default_str();
    train->add_option("--likelihood", t.likelihood, "bernoulli | gaussian | gaussian_learned | gaussian_learned_per_dim")
        ->capture_default_str();
    train->add_option("--sigma", t.sigma, "sigma of the gaussian likelihood (start value when learned)")->capture_default_str();
    train->add_option("--limit", t.limit, "train on the first N images only (0: all)")->capture_default_str();
    train->add_option("--exclude-digits", t.exclude_digits, "leave these classes out of training (anomaly detection)");
    train->add_flag("--conditional", t.conditional, "a conditional VAE: the label is fed to encoder and decoder");
    train->add_flag("--distributed", t.distributed,
                    "data-parallel over the processes of an MPI job: mpirun -np P vaelet-mnist train --distributed ...");

    mnist::ToolArgs a;
    auto add_ckpt = [&](CLI::App* c) {
        c->add_option("--ckpt", a.ckpt, "checkpoint.safetensors of a trained run, a model file, or a PyTorch "
                      "state_dict (safetensors)")->required();
        c->add_option("--arch", a.arch, "a state_dict's MLP, when its tensors do not tell, e.g. \"activation=tanh\"");
    };
    auto add_data = [&](CLI::App* c) { c->add_option("--data", a.data, "directory with the IDX files")->required(); };
    auto add_out = [&](CLI::App* c, const std::string& what) { c->add_option("--out", a.out, what)->required(); };
    auto add_common = [&](CLI::App* c) {
        c->add_option("--seed", a.seed, "random seed")->capture_default_str();
        c->add_option("--threads", a.threads, "threads (0: one per core)")->capture_default_str();
    };

    auto* sample = app.add_subcommand("sample", "decode z ~ N(0, I) into a grid of images");
    add_ckpt(sample);
    add_out(sample, "PNG file");
    sample->add_option("--n", a.n, "number of images")->capture_default_str();
    add_common(sample);

    auto* reconstruct = app.add_subcommand("reconstruct", "test images above their reconstructions");
    add_ckpt(reconstruct);
    add_data(reconstruct);
    add_out(reconstruct, "PNG file");
    reconstruct->add_option("--n", a.n, "number of images")->capture_default_str();
    add_common(reconstruct);

    auto* interpolate = app.add_subcommand("interpolate", "walk the latent space between pairs of test images");
    add_ckpt(interpolate);
    add_data(interpolate);
    add_out(interpolate, "PNG file");
    interpolate->add_option("--n", a.n, "number of pairs (rows)")->capture_default_str();
    interpolate->add_option("--steps", a.steps, "images per row, ends included")->capture_default_str();
    add_common(interpolate);

    auto* manifold = app.add_subcommand("manifold", "decode a grid over a 2-D latent space");
    add_ckpt(manifold);
    add_out(manifold, "PNG file");
    manifold->add_option("--grid", a.grid, "grid size per axis")->capture_default_str();
    add_common(manifold);

    auto* encode = app.add_subcommand("encode", "write label, mu..., logvar... per image as CSV");
    add_ckpt(encode);
    add_data(encode);
    add_out(encode, "CSV file");
    encode->add_option("--split", a.split, "test | train")->capture_default_str();
    add_common(encode);

    auto* score = app.add_subcommand("score", "negative ELBO and reconstruction error per image, in file order");
    add_ckpt(score);
    add_data(score);
    add_out(score, "CSV file");
    score->add_option("--split", a.split, "test | train")->capture_default_str();
    add_common(score);

    auto* eval = app.add_subcommand("eval", "test ELBO, IWAE bound and importance-sampled log-likelihood");
    add_ckpt(eval);
    add_data(eval);
    eval->add_option("--out", a.out, "also write the figures to this CSV file");
    eval->add_option("--k", a.k, "importance samples for log p(x)")->capture_default_str();
    eval->add_option("--iwae-k", a.iwae_k, "samples for the IWAE bound")->capture_default_str();
    eval->add_option("--limit", a.limit, "use the first N test images only (0: all)")->capture_default_str();
    add_common(eval);

    auto* compress = app.add_subcommand("compress", "store each image's latent mean as float16 (.vlc); compares with PCA");
    add_ckpt(compress);
    add_data(compress);
    add_out(compress, ".vlc file");
    compress->add_option("--split", a.split, "test | train")->capture_default_str();
    add_common(compress);

    auto* decompress = app.add_subcommand("decompress", "decode a .vlc file to a PNG grid (.png) or IDX images");
    add_ckpt(decompress);
    decompress->add_option("--in", a.in, ".vlc file from compress")->required();
    add_out(decompress, "F.png or an IDX file name");
    add_common(decompress);

    auto* generate = app.add_subcommand("generate", "write N generated images (and labels) as IDX files into a directory");
    add_ckpt(generate);
    add_out(generate, "output directory");
    generate->add_option("--n", a.n, "number of images")->capture_default_str();
    generate->add_option("--digit", a.digit, "0..9 or all (conditional models)")->capture_default_str();
    add_common(generate);

    auto* classify = app.add_subcommand("classify", "softmax regression: train on --train-data, report accuracy on --data's test split");
    classify->add_option("--train-data", a.in, "directory whose train split trains the classifier")->required();
    add_data(classify);
    classify->add_option("--epochs", a.steps, "training epochs")->capture_default_str();
    add_common(classify);

    auto* anomaly = app.add_subcommand("anomaly", "AUROC of finding --digit among the test images by -ELBO");
    add_ckpt(anomaly);
    add_data(anomaly);
    anomaly->add_option("--digit", a.digit, "the held-out digit")->required();
    anomaly->add_option("--iwae-k", a.iwae_k, "also score by -log p(x) with k importance samples (1: off)")->capture_default_str();
    anomaly->add_option("--out", a.out, "PNG of the most and least anomalous test images");
    add_common(anomaly);

    auto* export_graphs = app.add_subcommand("export", "write the model as ONNX graphs: encoder.onnx, decoder.onnx and "
                                             "reconstruction.onnx (docs/deploy.md)");
    add_ckpt(export_graphs);
    add_out(export_graphs, "directory for the .onnx files (created when missing)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    t.epochs_given = epochs->count() > 0;
    t.hidden_given = train->count("--hidden") > 0;
    t.conv_channels_given = train->count("--conv-channels") > 0;

    return examples::run_command("vaelet-mnist", [&] {
        if (*train) return mnist::run_train(t);
        if (*sample) return mnist::run_sample(a);
        if (*reconstruct) return mnist::run_reconstruct(a);
        if (*interpolate) return mnist::run_interpolate(a);
        if (*manifold) return mnist::run_manifold(a);
        if (*encode) return mnist::run_encode(a);
        if (*score) return mnist::run_score(a);
        if (*eval) return mnist::run_eval(a);
        if (*compress) return mnist::run_compress(a);
        if (*decompress) return mnist::run_decompress(a);
        if (*generate) return mnist::run_generate(a);
        if (*classify) return mnist::run_classify(a);
        if (*anomaly) return mnist::run_anomaly(a);
        if (*export_graphs) return mnist::run_export(a);
        return 1;  // require_subcommand(1) makes this unreachable
    });
}
