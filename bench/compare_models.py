#!/usr/bin/python3
"""bench/compare_models.py — vaelet's model family beside its PyTorch references, same machine, same run: the table
of docs/models.md ("The model family").

  /usr/bin/python3 bench/compare_models.py                                   # every model, both data sets
  /usr/bin/python3 bench/compare_models.py --models vae iwae --data /work/data/mnist --epochs 2 --k 500

For each data set and model: `vaelet-mnist train --model M …` then `vaelet-mnist eval --k K --limit N`, and
bench/pytorch_models.py with the same model, epochs, batch (128), optimizer (Adam 1e-3), initialisation scheme and
seed, one after the other so that machine load hits both alike; both on --threads threads. Reported per row: the
test −ELBO and the importance-sampled NLL (k = --k) on the first --test-images test images, each side by its own
estimator, and training images/s (the epochs alone) of each side with their ratio.

Models: vae (the ELBO), iwae (IWAE-5), iwae-dreg (IWAE-5 with DReG), vamp (VampPrior, 500 pseudo-inputs), flow
(an IAF posterior of 2 steps), tcvae (β-TCVAE, β = 6), two-layer (z₂ of 10 dimensions over z₁).
Needs the release build and Debian's python3-torch; without torch it says so and exits 0.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3"  # Debian's torch lives there

# model → (vaelet-mnist train flags, pytorch_models.py flags)
MODELS = {
    "vae": ([], ["--model", "vae"]),
    "iwae": (["--model", "iwae", "--samples", "5"], ["--model", "iwae", "--samples", "5"]),
    "iwae-dreg": (["--model", "iwae", "--samples", "5", "--dreg"], ["--model", "iwae", "--samples", "5", "--dreg"]),
    "vamp": (["--model", "vamp", "--pseudo-inputs", "500"], ["--model", "vamp", "--pseudo-inputs", "500"]),
    "flow": (["--model", "flow", "--flow-steps", "2"], ["--model", "flow", "--flow-steps", "2"]),
    "tcvae": (["--model", "tcvae", "--beta", "6"], ["--model", "tcvae", "--beta", "6"]),
    "two-layer": (["--model", "two-layer", "--latent2", "10", "--hidden2", "64"], ["--model", "two-layer"]),
}


def run(command, env):
    child = subprocess.run([str(c) for c in command], capture_output=True, text=True, env={**os.environ, **env})
    if child.returncode != 0:
        sys.exit(f"compare_models: {' '.join(map(str, command))} failed ({child.returncode}):\n{child.stderr[-2000:]}")
    return child.stdout


def vaelet_side(args, data, model, run_dir, env):
    program = ROOT / "build" / "release" / "bin" / "vaelet-mnist"
    run([program, "train", "--data", data, "--out", run_dir, "--epochs", args.epochs, "--batch", 128,
         "--threads", args.threads, "--seed", args.seed, *MODELS[model][0]], env)
    with open(Path(run_dir) / "metrics.csv") as f:
        epochs = list(csv.DictReader(f))
    images = sum(float(e["images_per_s"]) * float(e["seconds"]) for e in epochs)
    rate = images / sum(float(e["seconds"]) for e in epochs)
    figures = Path(run_dir) / "eval.csv"
    run([program, "eval", "--ckpt", Path(run_dir) / "checkpoint.safetensors", "--data", data, "--k", args.k,
         "--limit", args.test_images, "--threads", args.threads, "--seed", args.seed, "--out", figures], env)
    with open(figures) as f:
        values = {row["metric"]: float(row["value"]) for row in csv.DictReader(f)}
    return {"neg_elbo": values["neg_elbo"], "nll": values[f"nll_is_{args.k}"], "images_per_s": rate}


def torch_side(args, data, model, env):
    out = run([PYTHON, ROOT / "bench" / "pytorch_models.py", "--data", data, "--epochs", args.epochs, "--k", args.k,
               "--test-images", args.test_images, "--threads", args.threads, "--seed", args.seed, "--json",
               *MODELS[model][1]], env)
    r = json.loads(out)
    return {"neg_elbo": r["test_neg_elbo"], "nll": r["test_nll"], "images_per_s": r["train_images_per_s"]}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--data", nargs="+", default=["/work/data/fashion", "/work/data/mnist"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--k", type=int, default=5000)
    parser.add_argument("--test-images", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    if subprocess.run([PYTHON, "-c", "import torch"], capture_output=True).returncode != 0:
        print("compare_models: no torch for /usr/bin/python3 (apt-get install python3-torch libopenblas0-pthread); "
              "nothing to compare")
        return 0
    env = {"OMP_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": "1"}
    rows = []
    print(f"| data | model | −ELBO vaelet | −ELBO PyTorch | NLL vaelet | NLL PyTorch | NLL Δ | images/s vaelet | "
          f"images/s PyTorch | speed ratio |\n|---|---|---|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="vaelet-models-") as tmp:
        for data in args.data:
            for model in args.models:
                ours = vaelet_side(args, data, model, Path(tmp) / f"{Path(data).name}-{model}", env)
                theirs = torch_side(args, data, model, env)
                rows.append({"data": data, "model": model, "vaelet": ours, "pytorch": theirs})
                print(f"| {Path(data).name} | {model} | {ours['neg_elbo']:.2f} | {theirs['neg_elbo']:.2f} | "
                      f"{ours['nll']:.2f} | {theirs['nll']:.2f} | {ours['nll'] - theirs['nll']:+.2f} | "
                      f"{ours['images_per_s']:.0f} | {theirs['images_per_s']:.0f} | "
                      f"{ours['images_per_s'] / theirs['images_per_s']:.2f} |", flush=True)
    print(f"\n{args.epochs} epochs, batch 128, Adam 1e-3, seed {args.seed}, {args.threads} thread(s); test figures on the "
          f"first {args.test_images} test images, NLL with k = {args.k}; nats per image.")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
