// tests/deploy/write_reference.cpp — a model of every kind that vaelet's programs write, each saved beside vaelet's
// own outputs on fixed inputs, for the tests that run the models outside vaelet (issue #16): check_pytorch.py
// loads them with scripts/vaelet_torch.py, check_onnx.mjs runs their ONNX graphs in ONNX Runtime.
//
//   vaelet_write_reference DIR     # DIR/<name>.model.safetensors and DIR/<name>.reference.safetensors per model,
//                                  # and with vaelet::onnx DIR/<name>.{encoder,decoder,reconstruction}.onnx
//
// A model file is save_model's (the v0 checkpoint: a copy of tests/train/fixtures/v0_straight.safetensors). Its
// reference holds, in the model's dtype, the inputs x (n × input), z and eps (n × latent) and, for a conditional
// model, c (n × conditions, one-hot); and vaelet's outputs on them: mu and logvar (q(z|x), before a flow), code
// (μ through the flow), out (the decoder's output at z), mean (the likelihood's mean of out), reconstruction
// (Vae::reconstruct of x), sample (the likelihood's mean at flow(μ + σ·eps)) and, with a flow, log_det (its
// log-determinant there). Metadata "model": the model file's name.
#include "small_conv.hpp"
#include "vaelet/train/model_file.hpp"
#ifdef VAELET_HAVE_ONNX
#include "vaelet/deploy/onnx.hpp"
#endif

#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

using namespace vaelet;
using vaelet::testing::small_conv;

namespace {

/// A module type that build_module does not know (a user's own): x·exp(log_scale), one learned scale per feature.
template <class T>
class Scale : public Module<T> {
public:
    Scale(Index features, Rng& rng) : log_scale_(1, features, /*vector=*/true) {
        rng.fill_uniform(log_scale_.value, -0.5, 0.5);
    }
    Var<T> forward(Tape<T>& tape, const Var<T>& x) override { return x * exp(log_scale_.on(tape)); }
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        list.push_back({prefix + "log_scale", &log_scale_});
    }
    ModuleSpec spec() const override { return {"Scale", {{"features", log_scale_.value.cols()}}, {}, {}, {}}; }

private:
    Parameter<T> log_scale_;
};

Var<float> swish(const Var<float>& x) { return x * sigmoid(x); }

/// An encoder with a Function and a Scale between its layers: the parts a loader must be given.
Vae<float> custom_model(Rng& rng) {
    Sequential<float> encoder, decoder;
    encoder.add("fc1", Linear<float>(6, 8, rng)).add(Function<float>("swish", swish));
    encoder.add("scale", Scale<float>(8, rng)).add("", GaussianHead<float>(8, 2, rng));
    decoder.add("fc3", Linear<float>(2, 8, rng)).add(Activation::relu).add("fc4", Linear<float>(8, 6, rng));
    return Vae<float>(std::move(encoder), std::move(decoder), Likelihood<float>(LikelihoodKind::bernoulli, 6), 2);
}

/// Writes `vae`'s reference (the header comment) to DIR/<name>.reference.safetensors, for DIR/<name>.model.safetensors.
template <class T>
void write_reference(const std::filesystem::path& dir, const std::string& name, Vae<T>& vae, Rng& rng) {
    const Index n = 5;
    SafeTensors st;
    st.metadata["model"] = name + ".model.safetensors";
    Matrix<T> x(n, vae.input()), z(n, vae.latent()), eps(n, vae.latent());
    rng.fill_uniform(x, 0, 1);
    rng.fill_normal(z);
    rng.fill_normal(eps);
    st.put_matrix("x", x);
    st.put_matrix("z", z);
    st.put_matrix("eps", eps);
    typename Vae<T>::ConditionMatrix c;
    Tape<T> tape;
    tape.set_grad_enabled(false);
    typename Vae<T>::Condition cv;
    if (vae.conditions() > 0) {
        std::vector<int> labels;
        for (Index i = 0; i < n; ++i) labels.push_back(int(i % vae.conditions()));
        c = one_hot<T>(labels, vae.conditions());
        cv = tape.constant(*c);
        st.put_matrix("c", *c);
    }
    const Posterior<T> q = vae.encode(tape, tape.constant(x), cv);
    st.put_matrix("mu", q.mu.value());
    st.put_matrix("logvar", q.logvar.value());
    st.put_matrix("code", vae.code(q).value());
    const Matrix<T> out = vae.decode(tape, tape.constant(z), cv).value();
    st.put_matrix("out", out);
    st.put_matrix("mean", vae.likelihood().mean(out));
    Var<T> sampled = reparameterize(q.mu, q.logvar, tape.constant(eps));
    if (Flow<T>* flow = vae.flow()) {
        const auto f = flow->forward(tape, sampled);
        st.put_matrix("log_det", f.log_det.value());
        sampled = f.z;
    }
    st.put_matrix("sample", vae.likelihood().mean(vae.decode(tape, sampled, cv).value()));
    st.put_matrix("reconstruction", vae.reconstruct(x, c));
    save_safetensors((dir / (name + ".reference.safetensors")).string(), st);
}

/// Writes `vae`'s reference and, where ONNX export is built, its graphs.
template <class T>
void write_reference_and_graphs(const std::filesystem::path& dir, const std::string& name, Vae<T>& vae, Rng& rng) {
    write_reference(dir, name, vae, rng);
#ifdef VAELET_HAVE_ONNX
    export_onnx(vae, dir.string(), name + ".");
#endif
}

#ifdef VAELET_HAVE_ONNX
/// Every op that the ONNX export knows, but the convolutions (the conv models have those), in one graph of inputs a
/// (n × 4, entries in [0.1, 1.1)) and b (n × 4): DIR/ops.graph.onnx, with DIR/ops.graph.safetensors holding the
/// inputs and vaelet's value of each output under its name.
void write_op_graph(const std::filesystem::path& dir, Rng& rng) {
    using V = Var<float>;
    Matrix<float> weight(3, 4), bias(1, 3), row(1, 4);
    rng.fill_normal(weight);
    rng.fill_normal(bias);
    rng.fill_normal(row);
    const OnnxFunction<float> ops = [&](Tape<float>& tape, const std::vector<V>& in) {
        const V a = in[0] + 0.1f, b = in[1] - 0.5f;
        const V w = tape.constant(weight);
        return OnnxOutputs<float>{
            {"arithmetic", (a + b) - a * b / (b + 2.0f)},
            {"scalars", concat_cols(concat_cols(3.0f * a, 2.0f / a), -b)},
            {"activations", concat_cols(concat_cols(concat_cols(relu(b), leaky_relu(b, 0.2f)), concat_cols(tanh(b), sigmoid(b))),
                                        concat_cols(softplus(b * 30.0f), clamp_min(b, 0.1f)))},
            {"elementwise", concat_cols(concat_cols(exp(b), log(a)), concat_cols(sqrt(a), square(b)))},
            {"products", concat_cols(matmul(a, tape.constant(Matrix<float>(weight.transpose()))), linear(b, w, tape.constant(bias)))},
            {"broadcast", (a + tape.constant(row)) * sum_per_row(b) / mean_per_row(a)},
            {"sum", sum(a)},
            {"mean", mean(b)},
            {"per_column", concat_cols(sum_per_col(b), mean_per_col(a))},
            {"log_sum_exp", log_sum_exp_per_row(b * 10.0f)},
            {"log_softmax", log_softmax_per_row(b)},
            {"slice", slice_cols(b, 1, 2)},
            {"repeat", repeat_rows(b, 3)},
            {"reshape", reshape(a, a.rows() * 2, 2)}};
    };
    const std::vector<OnnxInput> inputs{{"a", 4}, {"b", 4}};
    save_onnx(trace_onnx<float>("ops", inputs, ops, {}), (dir / "ops.graph.onnx").string());
    SafeTensors st;
    Tape<float> tape;
    tape.set_grad_enabled(false);
    std::vector<Var<float>> vars;
    for (const OnnxInput& in : inputs) {
        Matrix<float> m(5, in.cols);
        rng.fill_uniform(m, 0, 1);
        st.put_matrix(in.name, m);
        vars.push_back(tape.constant(m));
    }
    for (const auto& [name, v] : ops(tape, vars)) st.put_matrix(name, v.value());
    save_safetensors((dir / "ops.graph.safetensors").string(), st);
}
#endif

/// Saves `vae` as DIR/<name>.model.safetensors and writes its reference (and graphs).
template <class T>
void write_model(const std::filesystem::path& dir, const std::string& name, Vae<T>& vae, Rng& rng) {
    save_model((dir / (name + ".model.safetensors")).string(), vae);
    write_reference_and_graphs(dir, name, vae, rng);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: vaelet_write_reference DIR\n";
        return 2;
    }
    try {
        const std::filesystem::path dir = argv[1];
        std::filesystem::create_directories(dir);
        Rng rng(16);
        const auto mlp = [&](const std::string& name, const std::string& architecture) {
            Vae<float> vae(parse_vae_config(architecture), rng);
            write_model(dir, name, vae, rng);
        };
        mlp("mlp", "input=20 hidden=16,8 latent=3");
        mlp("flow", "input=10 hidden=12 latent=4 activation=leaky_relu likelihood=gaussian_learned sigma=0.8 "
                    "flow_steps=2 flow_hidden=7");
        mlp("vamp", "input=10 hidden=12 latent=3 activation=sigmoid likelihood=gaussian sigma=0.3 prior=vamp "
                    "pseudo_inputs=5");
        mlp("two_layer", "input=10 hidden=12 latent=3 activation=softplus prior=two_layer latent2=2 hidden2=6");
        VaeConfig tabular =
            parse_vae_config("input=9 hidden=8,6 latent=2 activation=tanh likelihood=tabular conditions=2");
        tabular.tabular = TabularLayout{3, {4, 2}};
        Vae<float> table(tabular, rng);
        write_model(dir, "tabular", table, rng);

        Vae<double> mlp64(parse_vae_config("input=20 hidden=16,8 latent=3"), rng);
        write_model(dir, "mlp_f64", mlp64, rng);

        Vae<float> conv(conv_vae_parts<float>(small_conv(), rng));
        write_model(dir, "conv", conv, rng);
        ConvVaeConfig conditional = small_conv();
        conditional.conditions = 3;
        conditional.likelihood = LikelihoodKind::gaussian_learned_per_dim;
        conditional.sigma = 0.5;
        conditional.flow_steps = 1;
        conditional.flow_hidden = 5;
        Vae<float> conv_conditional(conv_vae_parts<float>(conditional, rng));
        write_model(dir, "conv_conditional_flow", conv_conditional, rng);

        Vae<float> custom = custom_model(rng);
        write_model(dir, "custom", custom, rng);

        // A checkpoint from before files carried their architecture: its model is the MLP of its config.
        const std::filesystem::path v0 = dir / "v0_checkpoint.model.safetensors";
        std::filesystem::copy_file(std::string(VAELET_TEST_SOURCE_DIR) + "/train/fixtures/v0_straight.safetensors", v0,
                                   std::filesystem::copy_options::overwrite_existing);
        write_reference_and_graphs(dir, "v0_checkpoint", *load_model<float>(v0.string()), rng);
#ifdef VAELET_HAVE_ONNX
        write_op_graph(dir, rng);
#endif
    } catch (const std::exception& e) {
        std::cerr << "vaelet_write_reference: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
