#!/usr/bin/python3
"""bench/pytorch_vae.py — the canonical PyTorch VAE, as the measuring stick for vaelet (docs/benchmarks.md).

  /usr/bin/python3 bench/pytorch_vae.py train-speed --batch 128 --threads 2 --seconds 10
  /usr/bin/python3 bench/pytorch_vae.py train --data data/mnist --epochs 10 --out torch_vae.safetensors --json
  /usr/bin/python3 bench/pytorch_vae.py train --data data/mnist --out state_dict.safetensors --state-dict
  /usr/bin/python3 bench/pytorch_vae.py eval --weights vaelet_vae.safetensors --data data/mnist
  /usr/bin/python3 bench/pytorch_vae.py ddp-speed --processes 2 --threads 1 --batch 128 --data data/fashion
  /usr/bin/python3 bench/pytorch_vae.py train-speed --arch conv --batch 128 --threads 1 --seconds 10

The model and loss are pytorch/examples `vae/main.py`, unchanged: fc1 784→400, fc21/fc22 400→20 (μ, log σ²),
fc3 20→400, fc4 400→784, ReLU, sigmoid output; loss = BCE(sum) + KLD(sum); Adam, lr 1e-3; float32. What differs,
all for measuring: the images are loaded once into a tensor and batched by slicing (the example's DataLoader would
time image decoding too); seed and thread count are explicit; losses are reported in nats per image (the batch
sums added up over an epoch and divided by the number of images, as the example does).

`--arch conv` takes the standard small conv VAE of issue #14 instead (ConvVAE, vaelet's conv_vae_parts): conv1
Conv2d(1,32,4,2,1), conv2 Conv2d(32,64,4,2,1), fc1 3136→256, fc21/fc22 256→20, fc3 20→256, fc4 256→3136,
deconv1 ConvTranspose2d(64,32,4,2,1), deconv2 ConvTranspose2d(32,1,4,2,1), ReLU between them, Bernoulli logits;
PyTorch's default initialisation; loss = mean over the batch of the summed BCE-with-logits + analytic KL; Adam 1e-3.

Needs Debian's torch and numpy: `apt-get install python3-torch libopenblas0-pthread`. Without
libopenblas0-pthread, Debian's torch (BLAS_INFO=generic) runs on the reference BLAS, about 10x slower; the output
names the BLAS libraries actually loaded. OPENBLAS_NUM_THREADS defaults to 1 so that BLAS threads do not fight
torch's own (--threads). Run it with /usr/bin/python3: a pyenv python3 earlier on PATH has no torch.

Weights files are safetensors with vaelet's names (encoder.fc1.weight, …, decoder.fc4.bias) in PyTorch's layout
(weight out×in, a conv weight out×in×kH×kW, a transposed conv's in×out×kH×kW, bias [out]), or with `train --state-dict` the bare names of model.state_dict() (fc1.weight, …);
vaelet's load_model and vaelet-mnist --ckpt read both. `eval` also accepts either, in F32 or F64.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # read when torch loads OpenBLAS, so set before the import

import argparse
import gzip
import json
import math
import resource
import signal
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Failure(Exception):
    """A problem with the input that the user can fix; main prints it and exits 1."""


# ---- the model and loss, as in pytorch/examples vae/main.py -----------------------------------------------------


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @staticmethod
    def loss(recon_x, x, mu, logvar):
        return loss_function(recon_x, x, mu, logvar)

    ENCODER_LAYERS = ("fc1", "fc21", "fc22")  # the rest is the decoder's, for vaelet's encoder./decoder. names
    mean_over_batch = False  # the example minimises the batch's sum


def gaussian_kl(mu, logvar):
    """KL(q(z|x) ‖ N(0, I)) summed over the batch; Kingma & Welling 2014, Appendix B."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction + KL divergence summed over the batch."""
    return F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum") + gaussian_kl(mu, logvar)


class ConvVAE(nn.Module):
    """Issue #14's conv VAE, layer for layer vaelet's conv_vae_parts (vae/conv_vae.hpp): its state_dict names are
    vaelet's parameter names without encoder./decoder. Images come as rows of side² pixels; the defaults are the
    model for 1×28×28 images (tests/vae/fixtures/make_conv_vae_fixture.py makes a smaller one)."""

    def __init__(self, side=28, conv_channels=(32, 64), hidden=256, latent=20):
        super().__init__()
        c1, c2 = conv_channels
        self.side, self.code = side, (c2, side // 4, side // 4)  # each convolution halves the side
        code_size = c2 * (side // 4) ** 2
        self.conv1 = nn.Conv2d(1, c1, 4, stride=2, padding=1)     # → 32×14×14
        self.conv2 = nn.Conv2d(c1, c2, 4, stride=2, padding=1)    # → 64×7×7
        self.fc1 = nn.Linear(code_size, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, code_size)
        self.deconv1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)  # → 32×14×14
        self.deconv2 = nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1)   # → 1×28×28

    def encode(self, x):
        h = F.relu(self.conv1(x.view(-1, 1, self.side, self.side)))
        h = F.relu(self.conv2(h))
        h = F.relu(self.fc1(h.flatten(1)))
        return self.fc21(h), self.fc22(h)

    reparameterize = VAE.reparameterize

    def decode_logits(self, z):
        h = F.relu(self.fc3(z))
        h = F.relu(self.fc4(h)).view(-1, *self.code)
        h = F.relu(self.deconv1(h))
        return self.deconv2(h).flatten(1)

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode_logits(z), mu, logvar

    @staticmethod
    def loss(logits, x, mu, logvar):
        """Summed BCE-with-logits (stable, as vaelet's) + KL, summed over the batch."""
        return F.binary_cross_entropy_with_logits(logits, x.view(len(logits), -1), reduction="sum") + \
            gaussian_kl(mu, logvar)

    ENCODER_LAYERS = ("conv1", "conv2", "fc1", "fc21", "fc22")
    mean_over_batch = True  # as vaelet's ELBO: the mean over the batch of the per-image loss


MODELS = {"mlp": VAE, "conv": ConvVAE}


def train_step(model, optimizer, x):
    """One Adam step on the model's objective; returns the batch's summed loss."""
    net = getattr(model, "module", model)  # the model itself under DistributedDataParallel
    optimizer.zero_grad()
    out, mu, logvar = model(x)  # through the wrapper, so that DistributedDataParallel syncs the gradients
    loss = net.loss(out, x, mu, logvar)
    (loss / len(x) if net.mean_over_batch else loss).backward()
    optimizer.step()
    return loss.item()


def reconstruct_mean(model, x):
    """Inference: encode, take z = μ, decode."""
    mu, _ = model.encode(x)
    return model.decode(mu)


# ---- data --------------------------------------------------------------------------------------------------------


def read_idx_images(directory, split):
    """The images of `split` ("train" or "t10k") from DIR/<split>-images-idx3-ubyte(.gz), as float32 in [0, 1]."""
    raw = Path(directory) / f"{split}-images-idx3-ubyte"
    path = next((p for p in (raw, raw.with_name(raw.name + ".gz")) if p.exists()), None)
    if path is None:
        raise Failure(f"neither {raw} nor {raw}.gz exists; make the data with scripts/get-data (docs/data.md)")
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 16:
        raise Failure(f"{path}: {len(data)} bytes, too short for an IDX image header (16 bytes)")
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x803:
        raise Failure(f"{path}: magic number {magic:#x}, expected 0x803 (unsigned bytes, 3 dimensions)")
    if rows * cols != 784 or len(data) != 16 + count * rows * cols:
        raise Failure(f"{path}: header says {count} images of {rows}x{cols} in {len(data)} bytes; "
                      f"the model needs 28x28 images and the file must hold exactly that many")
    pixels = np.frombuffer(data, np.uint8, offset=16).reshape(count, 784)
    return torch.from_numpy(pixels.astype(np.float32) / 255.0)


def batch_pool(args):
    """16 batches to cycle through in the speed modes: train images when --data is given, uniform noise otherwise."""
    if args.data:
        images = read_idx_images(args.data, "train")
        return images[torch.arange(16 * args.batch) % len(images)].view(16, args.batch, 784)
    return torch.rand(16, args.batch, 784)


# ---- safetensors -------------------------------------------------------------------------------------------------

NUMPY_DTYPES = {"F32": "<f4", "F64": "<f8"}


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} for every tensor in the file, checked against the file's size."""
    try:
        blob = Path(path).read_bytes()
    except OSError as e:
        raise Failure(f"cannot read {path}: {e.strerror}") from e
    if len(blob) < 8:
        raise Failure(f"{path}: {len(blob)} bytes, too short for a safetensors file")
    (header_size,) = struct.unpack("<Q", blob[:8])
    if 8 + header_size > len(blob):
        raise Failure(f"{path}: the header claims {header_size} bytes but the file has {len(blob)}")
    try:
        header = json.loads(blob[8:8 + header_size])
    except ValueError as e:
        raise Failure(f"{path}: the header is not JSON ({e})") from e
    header.pop("__metadata__", None)
    data = memoryview(blob)[8 + header_size:]
    tensors = {}
    for name, info in header.items():
        try:
            dtype, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError) as e:
            raise Failure(f"{path}: tensor {name} lacks a valid dtype, shape or data_offsets ({e!r})") from e
        if not 0 <= begin <= end <= len(data):
            raise Failure(f"{path}: tensor {name} has data_offsets [{begin}, {end}] outside the {len(data)} data bytes")
        tensors[name] = (dtype, shape, data[begin:end])
    return tensors


def load_weights(model, path):
    """Copies the model's parameters from a safetensors file; tensors the model does not have are ignored."""
    tensors = {}
    for name, entry in read_safetensors(path).items():
        for prefix in ("encoder.", "decoder."):
            name = name[len(prefix):] if name.startswith(prefix) else name
        tensors[name] = entry
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in tensors:
                raise Failure(f"{path}: no tensor {name} (nor encoder./decoder.{name}); "
                              f"write the weights with vaelet or with `{Path(sys.argv[0]).name} train --out`")
            dtype, shape, raw = tensors[name]
            if dtype not in NUMPY_DTYPES:
                raise Failure(f"{path}: tensor {name} is {dtype}; only F32 and F64 are read")
            if shape not in (tuple(param.shape), (1, *param.shape)):
                raise Failure(f"{path}: tensor {name} has shape {list(shape)}, the model needs {list(param.shape)} "
                              f"(PyTorch's layout)")
            values = np.frombuffer(raw, NUMPY_DTYPES[dtype])
            if values.size != math.prod(shape):
                raise Failure(f"{path}: tensor {name} has {len(raw)} bytes, not {math.prod(shape)} {dtype} values")
            param.copy_(torch.from_numpy(values.astype(np.float32).reshape(param.shape)))


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: numpy array} (F32 or F64, in the order given) as safetensors, via path.tmp and a rename."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        dtype = {np.dtype(np.float32): ("F32", "<f4"), np.dtype(np.float64): ("F64", "<f8")}[array.dtype]
        blob = np.ascontiguousarray(array).astype(dtype[1]).tobytes()
        header[name] = {"dtype": dtype[0], "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {key: str(value) for key, value in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad to 8 bytes, as the reference writer does
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


def save_weights(model, path, metadata, state_dict_names=False):
    """Writes the model's parameters as F32 safetensors with vaelet's names (or, with `state_dict_names`, the
    bare names of model.state_dict()), via path.tmp and a rename."""
    tensors = {}
    for name, param in model.named_parameters():
        side = "encoder." if name.split(".")[0] in model.ENCODER_LAYERS else "decoder."
        tensors[("" if state_dict_names else side) + name] = param.detach().numpy().astype(np.float32)
    write_safetensors(path, tensors, metadata)


# ---- modes -------------------------------------------------------------------------------------------------------


def blas_libraries():
    """The BLAS libraries mapped into this process (after torch is imported), resolved paths."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return sorted(paths)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_loop(step, pool, seconds):
    """Runs `step(batch)` over the pool for `seconds` after a short warm-up; returns (steps, wall s, cpu s)."""
    warmup_end = time.perf_counter() + min(1.0, seconds / 10)
    k = 0
    while time.perf_counter() < warmup_end or k < 3:
        step(pool[k % len(pool)])
        k += 1
    steps, cpu0, start = 0, cpu_seconds(), time.perf_counter()
    while True:
        step(pool[steps % len(pool)])
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps, elapsed, cpu_seconds() - cpu0


def speed_result(args, steps, elapsed, cpu):
    return {"batch": args.batch, "seconds": round(elapsed, 3), "steps": steps,
            "images_per_s": round(steps * args.batch / elapsed, 1), "ms_per_step": round(1e3 * elapsed / steps, 4),
            "arch": args.arch, "cpu_utilization": round(cpu / elapsed, 2),
            # On a shared machine a 1-thread run's rate per CPU second is the steadier figure (waits not counted).
            "images_per_cpu_s": round(steps * args.batch / cpu, 1), "data": args.data or "uniform noise"}


def train_speed(args, say):
    model = MODELS[args.arch]()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    result = speed_result(args, *timed_loop(lambda x: train_step(model, optimizer, x), batch_pool(args), args.seconds))
    say(f"train-speed  batch {args.batch}, {args.threads} threads: {result['images_per_s']:.0f} images/s "
        f"({result['ms_per_step']:.3f} ms/step, {result['steps']} steps; {result['images_per_cpu_s']:.0f} images per "
        f"CPU second, cpu {result['cpu_utilization']:.2f})")
    return result


def infer_speed(args, say):
    model = MODELS[args.arch]().eval()
    with torch.no_grad():
        result = speed_result(args, *timed_loop(lambda x: reconstruct_mean(model, x), batch_pool(args), args.seconds))
    say(f"infer-speed  batch {args.batch}, {args.threads} threads: {result['images_per_s']:.0f} images/s "
        f"({result['ms_per_step']:.4f} ms/batch, {result['steps']} batches; {result['images_per_cpu_s']:.0f} images per "
        f"CPU second, cpu {result['cpu_utilization']:.2f})")
    return result


def ddp_worker(rank, args, results):
    """One process of ddp-speed: DistributedDataParallel over gloo, this rank's slice of every global batch."""
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(args.port)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=args.processes)
    model = nn.parallel.DistributedDataParallel(MODELS[args.arch]())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    pool = batch_pool(args)
    pool = pool[:, rank * args.batch // args.processes:(rank + 1) * args.batch // args.processes].contiguous()

    def steps(n):
        for k in range(n):
            train_step(model, optimizer, pool[k % len(pool)])

    # Every rank must take the same number of steps (each one is an all-reduce): rank 0 times a warm-up and
    # sends the others the count that fills --seconds.
    start = time.perf_counter()
    steps(20)
    count = torch.tensor([max(20, int(args.seconds * 20 / (time.perf_counter() - start)))])
    torch.distributed.broadcast(count, 0)
    torch.distributed.barrier()
    start, cpu0 = time.perf_counter(), cpu_seconds()
    steps(int(count))
    torch.distributed.barrier()
    if rank == 0:
        results.put(speed_result(args, int(count), time.perf_counter() - start, cpu_seconds() - cpu0))
    torch.distributed.destroy_process_group()


def ddp_speed(args, say):
    if args.batch < args.processes:
        raise Failure(f"--batch {args.batch} is smaller than --processes {args.processes}")
    context = torch.multiprocessing.get_context("spawn")
    results = context.SimpleQueue()
    torch.multiprocessing.start_processes(ddp_worker, args=(args, results), nprocs=args.processes,
                                          start_method="spawn")
    result = {**results.get(), "processes": args.processes}
    say(f"ddp-speed  batch {args.batch} over {args.processes} processes x {args.threads} threads (gloo): "
        f"{result['images_per_s']:.0f} images/s ({result['ms_per_step']:.3f} ms/step, {result['steps']} steps)")
    return result


def test_loss(model, images, batch):
    """The example's test loss: z sampled as in training, nats per image."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = images[i:i + batch]
            recon, mu, logvar = model(x)
            total += model.loss(recon, x, mu, logvar).item()
    return total / len(images)


def train(args, say):
    train_images = read_idx_images(args.data, "train")
    test_images = read_idx_images(args.data, "t10k")
    model = MODELS[args.arch]()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epochs = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        start, cpu0, total = time.perf_counter(), cpu_seconds(), 0.0
        order = torch.randperm(len(train_images))
        for i in range(0, len(train_images), args.batch):
            total += train_step(model, optimizer, train_images[order[i:i + args.batch]])
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
        row = {"epoch": epoch, "train_loss": round(total / len(train_images), 4),
               "test_loss": round(test_loss(model, test_images, args.batch), 4), "seconds": round(seconds, 3),
               "cpu_seconds": round(cpu, 3), "images_per_s": round(len(train_images) / seconds, 1)}
        epochs.append(row)
        say(f"epoch {epoch}: train {row['train_loss']:.2f}  test {row['test_loss']:.2f} nats/image  "
            f"{row['seconds']:.1f} s, {row['cpu_seconds']:.1f} CPU s ({row['images_per_s']:.0f} images/s)", progress=True)
    if args.out:
        save_weights(model, args.out, {"source": "bench/pytorch_vae.py", "epochs": args.epochs, "seed": args.seed},
                     state_dict_names=args.state_dict)
        say(f"wrote {args.out}")
    return {"data": args.data, "train_images": len(train_images), "test_images": len(test_images),
            "batch": args.batch, "epochs": epochs, "out": args.out}


def evaluate(args, say):
    model = MODELS[args.arch]()
    load_weights(model, args.weights)
    images = read_idx_images(args.data, "t10k")
    loss = test_loss(model, images, args.batch)
    say(f"test loss {loss:.4f} nats/image over {len(images)} images ({args.weights})")
    return {"weights": args.weights, "data": args.data, "test_images": len(images), "test_loss": round(loss, 4)}


# ---- command line ------------------------------------------------------------------------------------------------


def parse_args(argv):
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description="\n\n".join(__doc__.split("\n\n")[:2]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_subparsers(dest="mode", required=True)

    def mode(name, help_text, batch):
        sub = modes.add_parser(name, help=help_text)
        sub.add_argument("--batch", type=int, default=batch, help=f"images per step (default {batch})")
        sub.add_argument("--threads", type=int, default=cores, help=f"torch threads (default {cores}, the cores)")
        sub.add_argument("--seed", type=int, default=1, help="torch.manual_seed (default 1)")
        sub.add_argument("--json", action="store_true", help="print one JSON object on stdout, nothing else")
        sub.add_argument("--arch", choices=sorted(MODELS), default="mlp",
                         help="mlp: PyTorch's example (default); conv: the conv VAE of issue #14")
        return sub

    for name, help_text in (("train-speed", "forward+backward+Adam steps per second"),
                            ("infer-speed", "encode → μ → decode under no_grad, images per second")):
        sub = mode(name, help_text, 128)
        sub.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
        sub.add_argument("--data", help="take batches from DIR's train images (default: uniform noise)")
    sub = mode("ddp-speed", "training steps per second under DistributedDataParallel (gloo), --batch split", 128)
    sub.add_argument("--processes", type=int, default=2, help="processes (default 2)")
    sub.add_argument("--port", type=int, default=29517, help="TCP port of the gloo rendezvous (default 29517)")
    sub.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
    sub.add_argument("--data", help="take batches from DIR's train images (default: uniform noise)")
    sub = mode("train", "train on IDX data, print train/test loss per epoch", 128)
    sub.add_argument("--data", required=True, help="directory with the four MNIST-format IDX files")
    sub.add_argument("--epochs", type=int, default=10, help="default 10, as the example")
    sub.add_argument("--out", help="write the trained weights here (safetensors, vaelet's names)")
    sub.add_argument("--state-dict", action="store_true",
                     help="with --out: name the tensors as model.state_dict() does (fc1.weight, …), no prefixes")
    sub = mode("eval", "test loss of weights from a safetensors file", 128)
    sub.add_argument("--weights", required=True, help="safetensors with fc1…fc4 (encoder./decoder. prefix optional)")
    sub.add_argument("--data", required=True, help="directory with t10k-images-idx3-ubyte(.gz)")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.threads < 1:
        parser.error("--batch and --threads must be at least 1")
    return args


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `… | head` ends the program quietly, as with other tools
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def say(text, progress=False):
        if not args.json:
            print(text, flush=True)
        elif progress:
            print(text, file=sys.stderr, flush=True)

    blas = blas_libraries()
    # torch calls sgemm_ through libblas.so.3 (Debian's alternatives pick its implementation); libopenblas being
    # mapped as well does not mean it is the one called.
    libblas = [path for path in blas if Path(path).name.startswith("libblas")]
    if not libblas or "openblas" not in libblas[0]:
        print(f"pytorch_vae: warning: torch's libblas.so.3 is not OpenBLAS ({', '.join(libblas) or 'none mapped'}); "
              "expect ~10x slower GEMMs; apt-get install libopenblas0-pthread", file=sys.stderr)
    run = {"train-speed": train_speed, "infer-speed": infer_speed, "ddp-speed": ddp_speed, "train": train,
           "eval": evaluate}[args.mode]
    try:
        result = run(args, say)
    except Failure as e:
        print(f"pytorch_vae: error: {e}", file=sys.stderr)
        return 1
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(f"peak RSS {peak_rss_mib:.0f} MiB; torch {torch.__version__}, {args.threads} threads, "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, BLAS {', '.join(blas)}")
    if args.json:
        print(json.dumps({"mode": args.mode, **result, "threads": args.threads, "seed": args.seed,
                          "peak_rss_mib": round(peak_rss_mib, 1), "torch": torch.__version__,
                          "openblas_num_threads": os.environ["OPENBLAS_NUM_THREADS"], "blas": blas}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
