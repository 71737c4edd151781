// examples/02_vae_in_memory.cpp — a VAE composed from parts, trained on data in memory, saved and loaded back.
#include <vaelet/vaelet.hpp>
#include <cstdio>
#include <iostream>

using T = float;

// An activation of our own: any function of a Var is a module.
vaelet::Var<T> swish(const vaelet::Var<T>& x) { return x * vaelet::sigmoid(x); }

int main() {
    vaelet::Rng rng(42);

    // 512 examples of 16 binary-ish features: two prototypes plus noise.
    vaelet::Matrix<T> data(512, 16);
    for (vaelet::Index i = 0; i < data.rows(); ++i)
        for (vaelet::Index j = 0; j < data.cols(); ++j)
            data(i, j) = T((j < 8) == (i % 2 == 0) ? 0.9 : 0.1) + T(0.05 * rng.normal());
    data = data.cwiseMax(T(0)).cwiseMin(T(1));

    // The parts: an encoder whose output is [mu | log sigma^2], a decoder giving Bernoulli logits.
    const vaelet::Index latent = 2;
    vaelet::Sequential<T> encoder, decoder;
    encoder.add("fc1", vaelet::Linear<T>(16, 32, rng)).add(vaelet::Function<T>("swish", swish))
           .add("head", vaelet::Linear<T>(32, 2 * latent, rng));
    decoder.add("fc1", vaelet::Linear<T>(latent, 32, rng)).add(vaelet::Activation::relu)
           .add("out", vaelet::Linear<T>(32, 16, rng));
    vaelet::Vae<T> vae(std::move(encoder), std::move(decoder),
                       vaelet::Likelihood<T>(vaelet::LikelihoodKind::bernoulli, 16), latent);
    // (The MLP of PyTorch's example is one line: vaelet::Vae<T> vae(vaelet::VaeConfig{}, rng);)

    vaelet::Adam<T> adam(vae.named_parameters(), vaelet::AdamOptions{1e-2});
    vaelet::Tape<T> tape;
    double first = 0, last = 0;
    for (int step = 0; step < 400; ++step) {
        tape.reset();                                         // reuses every buffer of the last step
        auto batch = data.middleRows((step % 8) * 64, 64);
        auto terms = vaelet::elbo(vae, tape, tape.constant(batch), rng);
        tape.backward(terms.loss);                            // gradients land in the parameters
        adam.step_and_zero_grad();
        last = terms.mean_recon() + terms.mean_kl();          // -ELBO, nats per example
        if (step == 0) first = last;
        if (step % 100 == 0) std::cout << "step " << step << "  -ELBO " << last << '\n';
    }

    vaelet::Matrix<T> samples = vae.generate(4, rng);         // decode z ~ N(0, I)
    std::cout << "a sample: " << samples.row(0) << '\n';

    // The file holds the architecture beside the weights; loading needs our function registered by name.
    vaelet::save_model("tour_model.safetensors", vae);
    vaelet::register_function<T>("swish", swish);
    auto again = vaelet::load_model<T>("tour_model.safetensors");
    const bool same = again->reconstruct(data.topRows(4)) == vae.reconstruct(data.topRows(4));
    std::remove("tour_model.safetensors");
    return last < 0.8 * first && same ? 0 : 1;                 // it learned, and came back the same
}
