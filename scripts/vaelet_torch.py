"""scripts/vaelet_torch.py — a vaelet model file or checkpoint as a torch.nn.Module, in one call (issue #16).

  import vaelet_torch                                         # this one file, copied beside your code
  vae = vaelet_torch.load("runs/quickstart/checkpoint.safetensors")    # or a file of vaelet::save_model
  x_hat = vae.reconstruct(x)                                  # x: n × 784 rows in [0, 1], as vaelet reads them

Needs torch and numpy, nothing else (the safetensors file is read here). It reads the architecture the file
describes (train/model_file.hpp: metadata "architecture", the ModuleSpec tree of vae/architecture.hpp; for a
checkpoint written before that existed, the MLP of its config) and builds the same network from torch's layers,
then copies the weights in by their vaelet names. The module computes what vaelet's Vae computes, to float
rounding (tests/deploy/check_pytorch.py compares them, every kind of model vaelet-mnist and vaelet-tabular write):

  mu, logvar = vae.encode(x, c=None)    q(z|x), the Gaussian before a posterior flow
  z = vae.code(mu)                      μ through the posterior flow (μ itself without one): Vae::code
  out = vae.decode(z, c=None)           the decoder's output: Bernoulli logits, Gaussian means, or a table's
                                        numeric means then one logit per category
  vae.mean(out)                         the likelihood's mean: sigmoid(logits), the means, per-block softmax
  vae.reconstruct(x, c=None, eps=None)  mean(decode(code(μ))), as Vae::reconstruct; with ε (n × latent),
                                        mean(decode(flow(μ + σ·ε))): the sampling path with its noise as an input.
                                        vae(x) is the same.
  z, log_det = vae.flow(z0)             the posterior flow, when vae.flow is not None
  vae.prior.sample(n, generator=None)   z ~ p(z); vae.sample(n, c=None, generator=None) decodes it to means

Rows are examples: an image is its C·H·W values in NCHW order (images.reshape(n, -1)), a conditional model's c
is one-hot (n × classes), and vaelet-tabular's x is the encoded table (standardized numbers, then a one-hot block
per categorical column, as data/tabular.hpp encodes it; the column encoder is vae.config["extra"]["encoder"]).
The module's dtype is the file's (F32: float32, F64: float64). Parts of your own need their PyTorch side: a
Function registered in C++ with register_function needs functions={"name": f}, f computing it on a tensor; a
module type of your own (register_module) needs modules={"Type": factory}, factory(spec) returning an nn.Module
whose named_parameters() carry the names its C++ collect_parameters gives.
"""
import json
import math
import struct

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["load", "LoadError", "VaeModule", "read_safetensors", "decode_tensor"]

FORMATS = ("vaelet-model-1", "vaelet-checkpoint-1")
NUMPY_DTYPES = {"F32": ("<f4", torch.float32), "F64": ("<f8", torch.float64)}


class LoadError(ValueError):
    """A file this loader cannot turn into a module; the message names the file, the part and the fix."""


# ---- the file ----------------------------------------------------------------------------------------------------


def read_safetensors(path):
    """(metadata, {name: (dtype, shape, raw bytes)}) of a safetensors file, its offsets checked; no tensor is
    decoded (a checkpoint's optimizer state is never needed)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise LoadError(f"{path}: {len(blob)} bytes, too short for a safetensors file")
    (header_size,) = struct.unpack("<Q", blob[:8])
    if 8 + header_size > len(blob):
        raise LoadError(f"{path}: the header claims {header_size} bytes but the file has {len(blob)}")
    try:
        header = json.loads(blob[8:8 + header_size])
    except ValueError as e:
        raise LoadError(f"{path}: the header is not JSON ({e})") from e
    metadata = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + header_size:]
    tensors = {}
    for name, info in header.items():
        try:
            dtype, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError) as e:
            raise LoadError(f"{path}: tensor {name} lacks a valid dtype, shape or data_offsets ({e!r})") from e
        if not 0 <= begin <= end <= len(data):
            raise LoadError(f"{path}: tensor {name} has data_offsets [{begin}, {end}] outside the data")
        tensors[name] = (dtype, shape, data[begin:end])
    return metadata, tensors


def decode_tensor(path, name, entry):
    """The F32 or F64 tensor `entry` of read_safetensors as a torch tensor of its own dtype."""
    dtype, shape, raw = entry
    if dtype not in NUMPY_DTYPES:
        raise LoadError(f"{path}: tensor {name} is {dtype}; a vaelet model's weights are F32 or F64")
    values = np.frombuffer(raw, NUMPY_DTYPES[dtype][0])
    if values.size != math.prod(shape):
        raise LoadError(f"{path}: tensor {name} has {len(raw)} bytes, not {math.prod(shape)} {dtype} values")
    return torch.from_numpy(values.astype(values.dtype.newbyteorder("="))).reshape(shape)


def _architecture(path, metadata):
    """The ModuleSpec tree of the file as JSON: its "architecture", or the MLP of an older checkpoint's config."""
    if metadata.get("format") not in FORMATS:
        raise LoadError(f"{path}: not a vaelet model file or checkpoint (metadata \"format\" is "
                        f"{metadata.get('format')!r}, not {' or '.join(FORMATS)}); a PyTorch state_dict loads with "
                        "your own module's load_state_dict, or with vaelet::load_model, whose save_model then writes "
                        "a file for this loader")
    try:
        if "architecture" in metadata:
            return json.loads(metadata["architecture"])
        return _mlp_architecture(json.loads(metadata["config"])["model"])
    except (KeyError, TypeError, ValueError) as e:
        raise LoadError(f"{path}: no readable architecture ({e!r}); the file is damaged") from e


def _mlp_architecture(m):
    """The spec of the MLP of a VaeConfig, as mlp_vae_parts builds it: checkpoints written before files carried
    their architecture (December 2026) hold only the config."""
    activation = {"identity": "Identity", "relu": "ReLU", "leaky_relu": "LeakyReLU", "tanh": "Tanh",
                  "sigmoid": "Sigmoid", "softplus": "Softplus"}[m["activation"]]

    def trunk(first, width, hidden):
        layers = []
        for k, out in enumerate(hidden):
            name = first if k == 0 else f"{first}_{k + 1}"
            layers += [[name, {"type": "Linear", "sizes": {"in_features": width, "out_features": out}}],
                       [name + "_act", {"type": activation}]]
            width = out
        return layers, width

    c = m["conditions"]
    encoder, width = trunk("fc1", m["input"] + c, m["hidden"])
    encoder.append(["", {"type": "GaussianHead", "sizes": {"in_features": width, "latent": m["latent"]}}])
    decoder, width = trunk("fc3", m["latent"] + c, m["hidden"][::-1])
    decoder.append(["fc4", {"type": "Linear", "sizes": {"in_features": width, "out_features": m["input"]}}])
    likelihood = {"type": "Likelihood", "sizes": {"width": m["input"]}, "numbers": {"sigma": m["sigma"]},
                  "texts": {"kind": m["likelihood"]}}
    if m["likelihood"] == "tabular":
        blocks = m["tabular"]["categorical_sizes"]
        likelihood["sizes"].update({"numeric": m["tabular"]["numeric"], "categorical_blocks": len(blocks)})
        likelihood["sizes"].update({f"categorical_{b}": size for b, size in enumerate(blocks)})
    return {"type": "Vae", "sizes": {"latent": m["latent"], "conditions": c},
            "children": [["encoder", {"type": "Sequential", "children": encoder}],
                         ["decoder", {"type": "Sequential", "children": decoder}],
                         ["likelihood", likelihood], ["prior", {"type": "StandardNormal"}]]}


# ---- the layers --------------------------------------------------------------------------------------------------


def vaelet_parameters(module, prefix=""):
    """(vaelet name, parameter) of `module`, as its C++ collect_parameters names them: a module of this file says
    so itself, any other (nn.Linear, nn.Conv2d, a module of your own) by torch's names."""
    if hasattr(module, "vaelet_parameters"):
        return module.vaelet_parameters(prefix)
    return [(prefix + name, p) for name, p in module.named_parameters()]


class Sequential(nn.Module):
    """vaelet's Sequential: named children applied in turn; a child named "" adds its parameters under the
    Sequential's own prefix (a GaussianHead, a BypassTail), so nn.Sequential's naming does not fit."""

    def __init__(self, children):
        super().__init__()
        self.names = [name for name, _ in children]
        self.layers = nn.ModuleList(module for _, module in children)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def vaelet_parameters(self, prefix):
        return [item for name, layer in zip(self.names, self.layers)
                for item in vaelet_parameters(layer, prefix + name + "." if name else prefix)]


class BypassTail(nn.Module):
    """[x | t] ↦ [inner(x) | t], t the last `tail` columns: a conditional conv encoder's one-hot condition."""

    def __init__(self, tail, inner):
        super().__init__()
        self.tail, self.inner = tail, inner

    def forward(self, x):
        head = x.shape[1] - self.tail
        return torch.cat([self.inner(x[:, :head]), x[:, head:]], 1)

    def vaelet_parameters(self, prefix):
        return vaelet_parameters(self.inner, prefix)


class GaussianHead(nn.Module):
    """Two Linear heads on one input, output side by side as [μ | log σ²], named by the spec (fc21, fc22)."""

    def __init__(self, spec):
        super().__init__()
        sizes, texts = spec["sizes"], spec.get("texts", {})
        self.mu = nn.Linear(sizes["in_features"], sizes["latent"])
        self.logvar = nn.Linear(sizes["in_features"], sizes["latent"])
        self.head_names = (texts.get("mu", "fc21"), texts.get("logvar", "fc22"))

    def forward(self, h):
        return torch.cat([self.mu(h), self.logvar(h)], 1)

    def vaelet_parameters(self, prefix):
        return (vaelet_parameters(self.mu, prefix + self.head_names[0] + ".") +
                vaelet_parameters(self.logvar, prefix + self.head_names[1] + "."))


def _conv_args(spec):
    s = spec["sizes"]
    return s["in_channels"], s["out_channels"], (s["kernel_height"], s["kernel_width"]), s["stride"], s["padding"]


class _OnRows:
    """A convolution on vaelet's rows: each row an in_channels × height × width image, each output row flattened."""

    def __init__(self, spec):
        super().__init__(*_conv_args(spec))
        self.image = (spec["sizes"]["in_channels"], spec["sizes"]["height"], spec["sizes"]["width"])

    def forward(self, x):
        return super().forward(x.reshape(-1, *self.image)).flatten(1)


class Conv2d(_OnRows, nn.Conv2d):
    """nn.Conv2d on vaelet's rows."""


class ConvTranspose2d(_OnRows, nn.ConvTranspose2d):
    """nn.ConvTranspose2d (output_padding 0, as vaelet's) on vaelet's rows."""


class Softplus(nn.Module):
    """vaelet's softplus, max(x, 0) + log1p(e^−|x|): nn.Softplus turns to x above 20, a 2e-9 difference."""

    def forward(self, x):
        return softplus(x)


def softplus(x):
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


class Function(nn.Module):
    """A function of the user's own, by the name the model file stores (vaelet's Function)."""

    def __init__(self, name, fn):
        super().__init__()
        self.name, self.fn = name, fn

    def forward(self, x):
        return self.fn(x)


ACTIVATIONS = {"Identity": nn.Identity, "ReLU": nn.ReLU, "LeakyReLU": lambda: nn.LeakyReLU(0.01), "Tanh": nn.Tanh,
               "Sigmoid": nn.Sigmoid, "Softplus": Softplus}


def build_module(spec, functions, modules):
    """The module of a spec (vaelet's build_module); LoadError naming the type, and the fix, when unknown."""
    kind = spec["type"]
    children = spec.get("children", [])
    if kind == "Sequential":
        return Sequential([(name, build_module(child, functions, modules)) for name, child in children])
    if kind == "BypassTail":
        return BypassTail(spec["sizes"]["tail"], build_module(children[0][1], functions, modules))
    if kind == "Linear":
        return nn.Linear(spec["sizes"]["in_features"], spec["sizes"]["out_features"])
    if kind == "GaussianHead":
        return GaussianHead(spec)
    if kind == "Conv2d":
        return Conv2d(spec)
    if kind == "ConvTranspose2d":
        return ConvTranspose2d(spec)
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind]()
    if kind in ("Flatten", "Unflatten"):
        return nn.Identity()  # an example stays one row; the convolutions reshape it themselves
    if kind == "Function":
        name = spec["texts"]["name"]
        if name not in functions:
            raise LoadError(f"the model uses the function \"{name}\", which vaelet_torch does not know; pass "
                            f"load(..., functions={{\"{name}\": f}}), f computing on a tensor what the C++ program "
                            "registered with register_function")
        return Function(name, functions[name])
    if kind in modules:
        return modules[kind](spec)
    raise LoadError(f"the model uses a module of type \"{kind}\", which vaelet_torch does not know; pass "
                    f"load(..., modules={{\"{kind}\": factory}}), factory(spec) returning an nn.Module whose "
                    "named_parameters() are the names its C++ collect_parameters gives")


# ---- the parts of a Vae ------------------------------------------------------------------------------------------


class Likelihood(nn.Module):
    """p(x|z)'s mean, and its learned log σ ("log_sigma") where it has one: vae/likelihood.hpp."""

    def __init__(self, spec):
        super().__init__()
        sizes = spec["sizes"]
        self.kind, self.sigma, self.width = spec["texts"]["kind"], spec["numbers"]["sigma"], sizes["width"]
        self.numeric = sizes.get("numeric", 0)
        self.blocks = [sizes[f"categorical_{b}"] for b in range(sizes.get("categorical_blocks", 0))]
        shape = {"bernoulli": None, "gaussian": None, "gaussian_learned": (1, 1),
                 "gaussian_learned_per_dim": (self.width,),
                 "tabular": (self.numeric,) if self.numeric > 0 else None}
        if self.kind not in shape:
            raise LoadError(f"the likelihood \"{self.kind}\" is not one vaelet_torch knows ({', '.join(shape)})")
        learned = shape[self.kind]
        self.log_sigma = nn.Parameter(torch.full(learned, math.log(self.sigma))) if learned else None

    def mean(self, out):
        if self.kind == "bernoulli":
            return torch.sigmoid(out)
        if self.kind != "tabular":
            return out
        parts, start = [out[:, :self.numeric]], self.numeric
        for size in self.blocks:
            parts.append(torch.softmax(out[:, start:start + size], 1))
            start += size
        return torch.cat(parts, 1)

    def vaelet_parameters(self, prefix):
        return [] if self.log_sigma is None else [(prefix + "log_sigma", self.log_sigma)]


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I)."""

    def __init__(self, latent):
        super().__init__()
        self.latent = latent
        self.register_buffer("like", torch.zeros(0), persistent=False)  # follows .to(): the dtype of samples

    def sample(self, n, generator=None):
        return torch.randn(n, self.latent, generator=generator, dtype=self.like.dtype, device=self.like.device)


class VampPrior(nn.Module):
    """The mixture of the encoder's posteriors at K learned pseudo-inputs ("pseudo_inputs", K × input)."""

    def __init__(self, spec, latent, encode):
        super().__init__()
        self.pseudo_inputs = nn.Parameter(torch.zeros(spec["sizes"]["pseudo_inputs"], spec["sizes"]["input"]))
        self.latent, self.encode = latent, encode  # the Vae's encode, not a submodule: its weights are the Vae's

    def sample(self, n, generator=None):
        """A pseudo-input chosen uniformly for each draw, then z ~ q(z|uₖ)."""
        mu, logvar = self.encode(self.pseudo_inputs)
        pick = torch.randint(len(mu), (n,), generator=generator, device=mu.device)
        eps = torch.randn(n, self.latent, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu[pick] + torch.exp(0.5 * logvar[pick]) * eps

    def vaelet_parameters(self, prefix):
        return [(prefix + "pseudo_inputs", self.pseudo_inputs)]


class TwoLayerPrior(nn.Module):
    """p(z₁) = ∫ p(z₁|z₂) N(z₂; 0, I) dz₂, with q(z₂|z₁) ("encoder") and p(z₁|z₂) ("decoder") each giving
    [μ | log σ²]: vae/two_layer_prior.hpp."""

    def __init__(self, spec, functions, modules):
        super().__init__()
        parts = dict(spec["children"])
        self.latent, self.latent2 = spec["sizes"]["latent"], spec["sizes"]["latent2"]
        self.encoder = build_module(parts["encoder"], functions, modules)
        self.decoder = build_module(parts["decoder"], functions, modules)

    def sample(self, n, generator=None):
        """z₂ ~ N(0, I), then z₁ ~ p(z₁|z₂)."""
        like = next(self.decoder.parameters())
        z2 = torch.randn(n, self.latent2, generator=generator, dtype=like.dtype, device=like.device)
        mu, logvar = self.decoder(z2).split(self.latent, 1)
        eps = torch.randn(n, self.latent, generator=generator, dtype=like.dtype, device=like.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def vaelet_parameters(self, prefix):
        return (vaelet_parameters(self.encoder, prefix + "encoder.") +
                vaelet_parameters(self.decoder, prefix + "decoder."))


class InverseAutoregressiveFlow(nn.Module):
    """vae/flow.hpp: per step a MADE (one masked hidden layer of ReLUs) gives a shift m and a gate σ = sigmoid(s + 1)
    from the dimensions before each one, z ← m + σ·(z − m), log |det| = Σ log σ; the order reverses every step."""

    def __init__(self, spec):
        super().__init__()
        latent, hidden = spec["sizes"]["latent"], spec["sizes"]["hidden"]
        self.steps = nn.ModuleList(_IafStep(latent, hidden, t % 2 == 1) for t in range(spec["sizes"]["steps"]))

    def forward(self, z):
        """(f(z), log |det ∂f/∂z| per row, n × 1)."""
        log_det = None
        for step in self.steps:
            h = F.relu(F.linear(z, step.hidden.weight * step.in_mask, step.hidden.bias))
            shift = F.linear(h, step.shift.weight * step.out_mask, step.shift.bias)
            gate_logit = F.linear(h, step.gate.weight * step.out_mask, step.gate.bias) + 1
            z = shift + torch.sigmoid(gate_logit) * (z - shift)
            log_gate = -softplus(-gate_logit).sum(1, keepdim=True)  # Σ log σ, stable
            log_det = log_gate if log_det is None else log_det + log_gate
        return z, log_det

    def vaelet_parameters(self, prefix):
        return [item for t, step in enumerate(self.steps) for item in step.vaelet_parameters(f"{prefix}{t}.")]


class _IafStep(nn.Module):
    def __init__(self, latent, hidden, reversed_order):
        super().__init__()
        self.hidden = nn.Linear(latent, hidden)
        self.shift, self.gate = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        # MADE's degrees, as vaelet assigns them: input i its place in the order, unit k one of 1 … latent − 1.
        inputs = torch.arange(latent, 0, -1) if reversed_order else torch.arange(1, latent + 1)
        units = torch.arange(hidden) % max(1, latent - 1) + 1
        self.register_buffer("in_mask", (units[:, None] >= inputs[None, :]).float(), persistent=False)
        self.register_buffer("out_mask", (inputs[:, None] > units[None, :]).float(), persistent=False)

    def vaelet_parameters(self, prefix):
        return [(prefix + layer + "." + name, p) for layer, module in
                (("in", self.hidden), ("shift", self.shift), ("gate", self.gate))
                for name, p in module.named_parameters()]


class VaeModule(nn.Module):
    """vaelet's Vae (vae/model.hpp) in PyTorch: encoder, decoder, likelihood, prior and an optional posterior flow,
    with vaelet's evaluation helpers; the module docstring lists them."""

    def __init__(self, spec, functions=None, modules=None):
        super().__init__()
        functions, modules = functions or {}, modules or {}
        parts = dict(spec["children"])
        self.latent, self.conditions = spec["sizes"]["latent"], spec["sizes"]["conditions"]
        self.encoder = build_module(parts["encoder"], functions, modules)
        self.decoder = build_module(parts["decoder"], functions, modules)
        self.likelihood = Likelihood(parts["likelihood"])
        prior = parts["prior"]
        if prior["type"] == "StandardNormal":
            self.prior = StandardNormalPrior(self.latent)
        elif prior["type"] == "VampPrior":
            self.prior = VampPrior(prior, self.latent, self.encode)
        elif prior["type"] == "TwoLayerPrior":
            self.prior = TwoLayerPrior(prior, functions, modules)
        else:
            raise LoadError(f"the prior \"{prior['type']}\" is not one vaelet_torch knows "
                            "(StandardNormal, VampPrior, TwoLayerPrior)")
        self.flow = None
        if "flow" in parts:
            if parts["flow"]["type"] != "InverseAutoregressiveFlow":
                raise LoadError(f"the posterior flow \"{parts['flow']['type']}\" is not one vaelet_torch knows "
                                "(InverseAutoregressiveFlow)")
            self.flow = InverseAutoregressiveFlow(parts["flow"])
        self.architecture, self.metadata, self.config = spec, {}, None  # load() fills in the file's

    def encode(self, x, c=None):
        h = self.encoder(self._with_condition(x, c))
        if h.shape[1] != 2 * self.latent:
            raise ValueError(f"the encoder gives {h.shape[1]} columns, not 2 × latent = {2 * self.latent}")
        return h[:, :self.latent], h[:, self.latent:]

    def code(self, mu):
        return mu if self.flow is None else self.flow(mu)[0]

    def decode(self, z, c=None):
        return self.decoder(self._with_condition(z, c))

    def mean(self, out):
        return self.likelihood.mean(out)

    def reconstruct(self, x, c=None, eps=None):
        mu, logvar = self.encode(x, c)
        if eps is None:
            z = self.code(mu)
        else:
            z = mu + torch.exp(0.5 * logvar) * eps
            if self.flow is not None:
                z = self.flow(z)[0]
        return self.mean(self.decode(z, c))

    def forward(self, x, c=None, eps=None):
        return self.reconstruct(x, c, eps)

    def sample(self, n, c=None, generator=None):
        return self.mean(self.decode(self.prior.sample(n, generator), c))

    def vaelet_parameters(self, prefix=""):
        """(vaelet name, parameter) in Vae::named_parameters' order and names."""
        return (vaelet_parameters(self.encoder, prefix + "encoder.") +
                vaelet_parameters(self.decoder, prefix + "decoder.") +
                self.likelihood.vaelet_parameters(prefix + "decoder.") +
                vaelet_parameters(self.prior, prefix + "prior.") +
                (vaelet_parameters(self.flow, prefix + "flow.") if self.flow is not None else []))

    def _with_condition(self, v, c):
        if self.conditions == 0:
            return v
        if c is None or c.shape[1] != self.conditions:
            raise ValueError(f"conditional VAE: give c, a one-hot condition of {self.conditions} columns per row")
        return torch.cat([v, c.to(v.dtype)], 1)


def _file_names(names):
    """The names a file holds (train/model_file.hpp's file_parameters): without "encoder."/"decoder." when every
    name stays unique."""
    def short(name):
        for prefix in ("encoder.", "decoder."):
            name = name[len(prefix):] if name.startswith(prefix) else name
        return name

    shorts = [short(name) for name in names]
    return shorts if len(set(shorts)) == len(shorts) else names


def load(path, functions=None, modules=None):
    """The VaeModule of a vaelet model file (vaelet::save_model) or checkpoint, in the file's dtype, in eval mode.
    `functions` and `modules` supply the parts of your own (the module docstring). LoadError names the file and
    what is wrong."""
    path = str(path)
    metadata, tensors = read_safetensors(path)
    spec = _architecture(path, metadata)
    try:
        vae = VaeModule(spec, functions, modules)
    except LoadError as e:
        raise LoadError(f"{path}: {e}") from None
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise LoadError(f"{path}: the architecture is malformed ({e!r}); the file is damaged") from e
    params = vae.vaelet_parameters()
    names = _file_names([name for name, _ in params])
    missing = [name for name in names if name not in tensors]
    if missing:
        raise LoadError(f"{path}: tensor {missing[0]} is missing ({len(missing)} of the {len(names)} the "
                        "architecture needs); the file is damaged")
    dtypes = {tensors[name][0] for name in names}
    if len(dtypes) != 1 or not dtypes <= set(NUMPY_DTYPES):
        raise LoadError(f"{path}: the weights are {' and '.join(sorted(dtypes))}; a vaelet model's are all F32 "
                        "or all F64")
    vae.to(NUMPY_DTYPES[dtypes.pop()][1])
    with torch.no_grad():
        for name, (_, p) in zip(names, vae.vaelet_parameters()):
            value = decode_tensor(path, name, tensors[name])
            if value.shape != p.shape:
                raise LoadError(f"{path}: tensor {name} has shape {list(value.shape)} but the architecture gives "
                                f"{list(p.shape)}; the file is damaged")
            p.copy_(value)
    vae.metadata = metadata
    vae.config = json.loads(metadata["config"]) if "config" in metadata else None
    return vae.eval()
