#!/usr/bin/python3
"""bench/pytorch_models.py — PyTorch references for vaelet's model family (docs/models.md, "The model family").

  /usr/bin/python3 bench/pytorch_models.py --model vae --data /work/data/fashion --epochs 10 --json
  /usr/bin/python3 bench/pytorch_models.py --model iwae --samples 5 --dreg --data /work/data/mnist --epochs 10
  /usr/bin/python3 bench/pytorch_models.py --model vamp --pseudo-inputs 500 --data /work/data/fashion
  /usr/bin/python3 bench/pytorch_models.py --model tcvae --beta 6 --data /work/data/fashion
  /usr/bin/python3 bench/pytorch_models.py --model flow --flow-steps 2 --data /work/data/fashion

Each model is what `vaelet-mnist train --model M` trains, written the way a PyTorch user would write it: the MLP
784-400-20 (fc1, fc21/fc22, fc3, fc4, ReLU, Bernoulli logits) with nn.Linear's default initialisation (vaelet's
Linear uses the same scheme), Adam with lr 1e-3, batch 128, the training set shuffled every epoch, float32.

  vae   the ELBO: the batch mean of the summed BCE-with-logits plus the analytic KL to N(0, I)
  iwae  the IWAE-k bound of --samples samples per image (Burda et al. 2016); --dreg: the doubly reparameterized
        encoder gradient (Tucker et al. 2018), through a hook on z that multiplies its gradient by the weights
  vamp  the VampPrior of --pseudo-inputs learned pseudo-inputs, started at 0.05 ± 0.01 (Tomczak & Welling 2018);
        the KL by one sample, log q(z|x) − log p(z)
  flow  an inverse autoregressive flow posterior (Kingma et al. 2016) of --flow-steps steps, each a MADE of one
        hidden layer of --flow-hidden ReLU units giving a shift m and a gate σ = sigmoid(s + 1), z ← m + σ(z − m),
        the order reversed between steps; the KL by one sample, log N(z₀; μ, σ²) − Σ log σ − log p(z)
  two-layer  a second stochastic layer z₂ (10 dims) over z₁ (Burda et al. 2016, §5): q(z₂|z₁) = 20→64→(μ, log σ²)
        and p(z₁|z₂) = 10→64→(μ, log σ²) with ReLU, p(z₂) = N(0, I); the KL of z₁ by one sample of both layers,
        log q(z₁|x) − [log p(z₁|z₂) + log p(z₂) − log q(z₂|z₁)], which the IS estimate uses as its weight too
  tcvae β-TCVAE (Chen et al. 2018): recon + MI + --beta·TC + dimension-wise KL, the aggregate posterior estimated
        by minibatch-weighted sampling over the training set's N images, as the paper's code does

After training: the test −ELBO (one sample per image, as vaelet-mnist eval) and the importance-sampled negative
log-likelihood with --k samples (default 5000) on the first --test-images test images, in nats per image, by this
file's own estimator. Training images/s are of the epochs alone (no evaluation inside them).

To tell training from evaluation when the two libraries' figures differ, each side's model can go through the other
side's estimator (for the models whose only weights are the MLP's: vae, iwae, tcvae):

  /usr/bin/python3 bench/pytorch_models.py --model tcvae --beta 6 --data D --save torch.safetensors   # then:
  build/release/bin/vaelet-mnist eval --ckpt torch.safetensors --data D --k 5000      # PyTorch's model, vaelet's estimator
  /usr/bin/python3 bench/pytorch_models.py --data D --evaluate RUN/checkpoint.safetensors  # vaelet's, PyTorch's
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # read when torch loads OpenBLAS, so set before the import

import argparse
import json
import math
import resource
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_vae import Failure, cpu_seconds, load_weights, read_idx_images, write_safetensors  # noqa: E402

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_normal_each(z, mu, logvar):
    """log N(z; μ, σ²) of each coordinate (broadcasting)."""
    return -0.5 * (logvar + (z - mu) ** 2 * torch.exp(-logvar)) - HALF_LOG_2PI


def log_normal(z, mu, logvar):
    """log N(z; μ, diag σ²) summed over the last dimension (broadcasting)."""
    return log_normal_each(z, mu, logvar).sum(-1)


class MaskedLinear(nn.Linear):
    """nn.Linear whose weight is multiplied by a fixed 0/1 mask (out × in)."""

    def __init__(self, n_in, n_out, mask):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class IAFStep(nn.Module):
    def __init__(self, latent, hidden, reversed_order):
        super().__init__()
        degree_in = torch.arange(latent, 0, -1) if reversed_order else torch.arange(1, latent + 1)
        degree_hidden = torch.arange(hidden) % max(1, latent - 1) + 1
        in_mask = (degree_hidden[:, None] >= degree_in[None, :]).float()   # hidden × latent
        out_mask = (degree_in[:, None] > degree_hidden[None, :]).float()   # latent × hidden
        self.hidden = MaskedLinear(latent, hidden, in_mask)
        self.shift = MaskedLinear(hidden, latent, out_mask)
        self.gate = MaskedLinear(hidden, latent, out_mask.clone())

    def forward(self, z):
        h = F.relu(self.hidden(z))
        m, s = self.shift(h), self.gate(h) + 1.0
        return m + torch.sigmoid(s) * (z - m), F.logsigmoid(s).sum(1)


class Model(nn.Module):
    def __init__(self, model, samples=1, dreg=False, pseudo_inputs=500, beta=1.0, dataset_size=1, flow_steps=2,
                 flow_hidden=128):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)
        self.model, self.samples, self.dreg, self.beta, self.dataset_size = model, samples, dreg, beta, dataset_size
        if model == "vamp":
            self.pseudo_inputs = nn.Parameter(torch.randn(pseudo_inputs, 784) * 0.01 + 0.05)
        if model == "flow":
            self.flow = nn.ModuleList(IAFStep(20, flow_hidden, t % 2 == 1) for t in range(flow_steps))
        if model == "two-layer":  # vaelet's names: prior.encoder.fc1, fc21, fc22; prior.decoder.fc1, fc21, fc22
            self.up1, self.up21, self.up22 = nn.Linear(20, 64), nn.Linear(64, 10), nn.Linear(64, 10)
            self.down1, self.down21, self.down22 = nn.Linear(10, 64), nn.Linear(64, 20), nn.Linear(64, 20)

    def sample(self, mu, logvar):
        """z ~ q(z|x) and log q(z|x), through the flow when there is one."""
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        log_q = log_normal(z, mu, logvar)
        for step in getattr(self, "flow", []):
            z, log_det = step(z)
            log_q = log_q - log_det
        return z, log_q

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def log_prior(self, z):
        if self.model == "two-layer":  # one sample of z₂ ~ q(z₂|z₁): log p(z₁|z₂) + log p(z₂) − log q(z₂|z₁)
            h = F.relu(self.up1(z))
            mu2, logvar2 = self.up21(h), self.up22(h)
            z2 = mu2 + torch.randn_like(mu2) * torch.exp(0.5 * logvar2)
            h = F.relu(self.down1(z2))
            log_p2 = -0.5 * (z2 ** 2).sum(-1) - HALF_LOG_2PI * z2.shape[-1]
            return log_normal(z, self.down21(h), self.down22(h)) + log_p2 - log_normal(z2, mu2, logvar2)
        if self.model != "vamp":
            return -0.5 * (z ** 2).sum(-1) - HALF_LOG_2PI * z.shape[-1]
        mu, logvar = self.encode(self.pseudo_inputs)  # K components
        table = log_normal(z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0))  # n × K
        return torch.logsumexp(table, 1) - math.log(len(mu))

    def elbo_terms(self, x):
        """Per image: −log p(x|z) and the KL (analytic for N(0, I), one sample for the VampPrior and the flow)."""
        mu, logvar = self.encode(x)
        z, log_q = self.sample(mu, logvar)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="none").sum(1)
        if self.model in ("vamp", "flow", "two-layer"):
            kl = log_q - self.log_prior(z)
        else:
            kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)
        return recon, kl

    def iwae_terms(self, x, k, dreg=False):
        """log wᵢ (n × k) for k samples per image, and −log p(x|zᵢ), log q − log p per sample."""
        mu, logvar = self.encode(x)
        mu_k, logvar_k = mu.repeat_interleave(k, 0), logvar.repeat_interleave(k, 0)
        if dreg:
            z = mu_k + torch.randn_like(mu_k) * torch.exp(0.5 * logvar_k)
            log_q = log_normal(z, mu_k.detach(), logvar_k.detach())
        else:
            z, log_q = self.sample(mu_k, logvar_k)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x.repeat_interleave(k, 0),
                                                   reduction="none").sum(1)
        kl = log_q - self.log_prior(z)
        return (-recon - kl).view(len(x), k), recon, kl, z

    def tcvae_loss(self, x):
        """β-TCVAE's loss with minibatch-weighted sampling (Chen et al. 2018, Appendix C.1)."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="none").sum(1)
        table = log_normal_each(z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0))  # M × M × D
        log_nm = math.log(self.dataset_size * len(x))
        log_qz = torch.logsumexp(table.sum(2), 1) - log_nm
        log_qz_marginals = (torch.logsumexp(table, 1) - log_nm).sum(1)
        mi = log_normal(z, mu, logvar) - log_qz
        tc = log_qz - log_qz_marginals
        dim_kl = log_qz_marginals - self.log_prior(z)
        kl = mi + tc + dim_kl
        return (recon + mi + self.beta * tc + dim_kl).mean(), recon.sum().item(), kl.sum().item()

    def loss(self, x):
        """What a step minimises, and the batch's summed −ELBO terms for reporting (recon, kl)."""
        if self.model == "tcvae":
            return self.tcvae_loss(x)
        if self.model != "iwae":
            recon, kl = self.elbo_terms(x)
            return (recon + kl).mean(), recon.sum().item(), kl.sum().item()
        log_w, recon, kl, z = self.iwae_terms(x, self.samples, self.dreg)
        if self.dreg:  # the gradient into zᵢ gets w̃ᵢ from the log-sum-exp; the hook makes it w̃ᵢ²
            weights = torch.softmax(log_w, 1).detach().reshape(-1, 1)
            z.register_hook(lambda g: g * weights)
        bound = torch.logsumexp(log_w, 1) - math.log(self.samples)
        return -bound.mean(), recon.sum().item() / self.samples, kl.sum().item() / self.samples


def test_figures(model, images, k, batch=100, rows_per_pass=4096):
    """The test −ELBO (one sample) and the importance-sampled NLL with k samples, nats per image."""
    neg_elbo = nll = 0.0
    chunk = min(k, rows_per_pass)
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = images[i:i + batch]
            recon, kl = model.elbo_terms(x)
            neg_elbo += (recon + kl).sum().item()
            for row in x:  # one image at a time: k samples in chunks, combined by a running log-sum-exp
                total = torch.tensor(-math.inf, dtype=torch.float64)
                for done in range(0, k, chunk):
                    s = min(chunk, k - done)
                    log_w = model.iwae_terms(row.unsqueeze(0), s)[0].double()
                    total = torch.logaddexp(total, torch.logsumexp(log_w, 1)[0])
                nll -= (total - math.log(k)).item()
    return neg_elbo / len(images), nll / len(images)


MLP_ONLY = ("vae", "iwae", "tcvae")  # the models whose weights are fc1, fc21, fc22, fc3, fc4 alone


def evaluate(args, say):
    """--evaluate: a vaelet checkpoint's MLP through this file's estimator."""
    test_images = read_idx_images(args.data, "t10k")[:args.test_images]
    model = Model("vae")
    load_weights(model, args.evaluate)
    start = time.perf_counter()
    neg_elbo, nll = test_figures(model, test_images, args.k)
    say(f"{args.evaluate} by PyTorch's estimator ({len(test_images)} test images): -ELBO {neg_elbo:.4f}, "
        f"NLL (k={args.k}) {nll:.4f} nats/image ({time.perf_counter() - start:.1f} s)")
    return {"evaluate": args.evaluate, "data": args.data, "test_images": len(test_images), "k": args.k,
            "test_neg_elbo": round(neg_elbo, 4), "test_nll": round(nll, 4)}


def run(args, say):
    if args.evaluate:
        return evaluate(args, say)
    train_images = read_idx_images(args.data, "train")
    test_images = read_idx_images(args.data, "t10k")[:args.test_images]
    model = Model(args.model, args.samples, args.dreg, args.pseudo_inputs, args.beta, len(train_images),
                  args.flow_steps, args.flow_hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epochs = []
    for epoch in range(1, args.epochs + 1):
        start, cpu0, recon_sum, kl_sum = time.perf_counter(), cpu_seconds(), 0.0, 0.0
        order = torch.randperm(len(train_images))
        for i in range(0, len(train_images), args.batch):
            optimizer.zero_grad()
            loss, recon, kl = model.loss(train_images[order[i:i + args.batch]])
            loss.backward()
            optimizer.step()
            recon_sum, kl_sum = recon_sum + recon, kl_sum + kl
        seconds = time.perf_counter() - start
        row = {"epoch": epoch, "train_loss": round((recon_sum + kl_sum) / len(train_images), 4),
               "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds() - cpu0, 3),
               "images_per_s": round(len(train_images) / seconds, 1)}
        epochs.append(row)
        say(f"epoch {epoch}: train {row['train_loss']:.2f} nats/image  {seconds:.1f} s "
            f"({row['images_per_s']:.0f} images/s)", progress=True)
    start = time.perf_counter()
    neg_elbo, nll = test_figures(model, test_images, args.k)
    say(f"test ({len(test_images)} images): -ELBO {neg_elbo:.4f}, NLL (k={args.k}) {nll:.4f} nats/image "
        f"({time.perf_counter() - start:.1f} s)")
    if args.save:  # as a state_dict (fc1.weight, …), which vaelet-mnist reads as --ckpt
        write_safetensors(args.save, {name: p.detach().numpy() for name, p in model.named_parameters()})
        say(f"wrote the trained weights to {args.save}")
    train_seconds = sum(e["seconds"] for e in epochs)
    return {"model": args.model, "samples": args.samples, "dreg": args.dreg, "pseudo_inputs": args.pseudo_inputs,
            "beta": args.beta,
            "data": args.data, "epochs": epochs, "test_images": len(test_images), "k": args.k,
            "test_neg_elbo": round(neg_elbo, 4), "test_nll": round(nll, 4),
            "train_images_per_s": round(args.epochs * len(train_images) / train_seconds, 1)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("vae", "iwae", "vamp", "flow", "tcvae", "two-layer"), default="vae")
    parser.add_argument("--samples", type=int, default=5, help="--model iwae: k (default 5)")
    parser.add_argument("--dreg", action="store_true", help="--model iwae: the DReG encoder gradient")
    parser.add_argument("--pseudo-inputs", type=int, default=500, help="--model vamp: K (default 500)")
    parser.add_argument("--beta", type=float, default=1.0, help="--model tcvae: the total correlation's weight")
    parser.add_argument("--flow-steps", type=int, default=2, help="--model flow: IAF steps (default 2)")
    parser.add_argument("--flow-hidden", type=int, default=128, help="--model flow: MADE hidden units (default 128)")
    parser.add_argument("--data", required=True, help="directory with the four MNIST-format IDX files")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--k", type=int, default=5000, help="importance samples for the test NLL (default 5000)")
    parser.add_argument("--test-images", type=int, default=1000, help="test images evaluated (default 1000)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--save", help=f"write the trained weights as a state_dict safetensors file ({', '.join(MLP_ONLY)})")
    parser.add_argument("--evaluate", metavar="CKPT", help="no training: a vaelet checkpoint of the MLP "
                        f"({', '.join(MLP_ONLY)}) through this file's estimator")
    args = parser.parse_args(argv)
    if args.save and args.model not in MLP_ONLY:
        parser.error(f"--save writes the MLP's weights, which are all of the model only for {', '.join(MLP_ONLY)}")
    if min(args.samples, args.pseudo_inputs, args.epochs, args.batch, args.k, args.test_images, args.threads) < 1:
        parser.error("--samples, --pseudo-inputs, --epochs, --batch, --k, --test-images and --threads must be >= 1")
    if args.model != "iwae":
        args.samples, args.dreg = 1, False
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def say(text, progress=False):
        if not args.json:
            print(text, flush=True)
        elif progress:
            print(text, file=sys.stderr, flush=True)

    try:
        result = run(args, say)
    except Failure as e:
        print(f"pytorch_models: error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**result, "threads": args.threads, "seed": args.seed, "torch": torch.__version__,
                          "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
