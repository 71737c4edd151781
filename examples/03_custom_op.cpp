// examples/03_custom_op.cpp — an op of your own, with its gradient beside it, checked, and used in a VAE's encoder.
// docs/extending.md explains each piece; this file is the whole of it (the docs show it and a test keeps them equal).
#include <vaelet/vaelet.hpp>

#include <iostream>

// swish(x) = x·σ(x), fused into one node: its gradient is σ(x)·(1 + x·(1 − σ(x))). The forward keeps σ(x) in the
// node's `saved` buffer for the backward. Buffers live in the node and are reused after tape.reset(), so the op
// allocates nothing once warmed up.
template <class T>
vaelet::Var<T> swish(const vaelet::Var<T>& x) {
    vaelet::Tape<T>& t = x.tape("swish");  // an empty x is an error naming "swish"
    vaelet::Node<T>& n = t.push_custom("swish", {x}, [](vaelet::Tape<T>& t, vaelet::Node<T>& n) {
        const auto s = n.saved.array();             // σ(x)
        const auto in = t.value(n.parents[0]).array();
        t.accumulate(n.parents[0], (n.grad.array() * s * (T(1) + in * (T(1) - s))).matrix());
    });
    n.saved = (T(1) / (T(1) + (-x.value().array()).exp())).matrix();
    n.value = (x.value().array() * n.saved.array()).matrix();
    return t.last();
}

template <class T>
bool gradient_checks() {
    const vaelet::Matrix<T> x = vaelet::Matrix<T>::Random(3, 4) * T(3);
    auto report = vaelet::gradcheck<T>(
        [](vaelet::Tape<T>&, const std::vector<vaelet::Var<T>>& in) { return vaelet::sum(swish(in[0])); }, {x});
    std::cout << (sizeof(T) == 4 ? "float:  " : "double: ") << report.describe() << '\n';
    return report.ok;
}

int main() {
    bool ok = gradient_checks<float>() && gradient_checks<double>();

    // As a layer: a Function is a module, and goes wherever a built-in activation goes (here, the MLP builders).
    using T = float;
    vaelet::Rng rng(7);
    const vaelet::Function<T> act("swish", swish<T>);
    vaelet::Vae<T> vae(vaelet::mlp_encoder<T>(16, {32}, 2, act, rng), vaelet::mlp_decoder<T>(2, {32}, 16, act, rng),
                       vaelet::Likelihood<T>(vaelet::LikelihoodKind::bernoulli, 16), /*latent=*/2);

    vaelet::Matrix<T> data = vaelet::Matrix<T>::Zero(256, 16);  // two patterns: left half on, or right half on
    for (vaelet::Index i = 0; i < data.rows(); ++i) data.row(i).segment(i % 2 == 0 ? 0 : 8, 8).setOnes();

    vaelet::Adam<T> adam(vae.named_parameters(), vaelet::AdamOptions{1e-2});
    vaelet::Tape<T> tape;
    T first = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
        tape.reset();
        auto terms = vaelet::elbo(vae, tape, tape.constant(data.middleRows((step % 4) * 64, 64)), rng);
        tape.backward(terms.loss);
        adam.step_and_zero_grad();
        last = terms.loss.item();
        if (step == 0) first = last;
    }
    std::cout << "-ELBO " << first << " -> " << last << " nats\n";
    ok = ok && last < T(0.5) * first;

    // Errors name the op: a handle kept past tape.reset() is refused by swish, by its own name.
    const vaelet::Var<T> old = tape.constant(data.topRows(1));
    tape.reset();
    try {
        swish(old);
        ok = false;
    } catch (const vaelet::error& e) {
        std::cout << "error: " << e.what() << '\n';
    }
    return ok ? 0 : 1;
}
