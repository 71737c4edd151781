#!/usr/bin/python3
"""bench/compare_pytorch.py — vaelet and the canonical PyTorch VAE side by side, same machine, same run.

  /usr/bin/python3 bench/compare_pytorch.py                                  # speed, 1 and 2 threads, + 10 epochs
  /usr/bin/python3 bench/compare_pytorch.py --epochs 0 --threads 1           # speed only, one thread
  /usr/bin/python3 bench/compare_pytorch.py --epochs 0 --models conv          # the conv VAE's speed only
  /usr/bin/python3 bench/compare_pytorch.py --ckpt RUN/checkpoint.safetensors --data data/fashion
                                                        # one checkpoint's test loss, in vaelet and in PyTorch

Speed: for each thread count, vaelet's Google Benchmark programs (build/release/bin/vaelet_bench: the training
step, inference and the hand-derived reference step) and bench/pytorch_vae.py (train-speed, infer-speed) are run
one after the other, figure by figure, so that drifting machine load hits both alike. PyTorch runs in its best
setting: torch.set_num_threads(N) with OPENBLAS_NUM_THREADS=1; vaelet with OMP_NUM_THREADS=N. --models picks the
MLP (PyTorch's example) and/or the conv VAE of issue #14 (vaelet_bench's vae_conv_*, pytorch_vae.py --arch conv).
With --data present, the MLP's rows also have the user's figure: one epoch of `vaelet-mnist train` and of
`pytorch_vae.py train` (training images/s as each program reports it), and its share of the step's rate.
Quality and memory: `vaelet-mnist train --arch M` and `pytorch_vae.py train --arch M` for --epochs epochs on --data
(default data/fashion, see scripts/get-data) with the first thread count, for each model M of --models: test loss
after the last epoch, peak RSS, wall time.
--ckpt: `vaelet-mnist eval` and `pytorch_vae.py eval` of the same weights (the checkpoint is a safetensors file with
PyTorch's names; a conv1.weight makes it the conv VAE); the two test losses differ only by sampling noise (z is
drawn in both).

Prints one Markdown table (and --json writes every raw figure to a file). Needs the release build
(cmake --workflow --preset release) and Debian's python3-torch with libopenblas0-pthread; without torch it says
so and exits 0 (nothing to compare). Run it on a quiet machine: the ratios are what count.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTORCH_VAE = ROOT / "bench" / "pytorch_vae.py"
PYTHON = "/usr/bin/python3"  # Debian's torch lives there; a pyenv python3 earlier on PATH has none


class Failure(Exception):
    """Something the user can fix (missing build, missing data); main prints it and exits 1."""


Finished = collections.namedtuple("Finished", "stdout peak_rss_mib seconds")


def run(command, env=None):
    """Runs `command`; returns its stdout, its peak RSS in MiB and the wall seconds. Raises Failure when it fails.
    RUSAGE_CHILDREN is a maximum over every child so far, so the command runs under a wrapper process of its own,
    which reports it."""
    wrapper = ("import os, resource, subprocess, sys; p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE);"
               "sys.stdout.buffer.write(p.stdout);"
               "sys.stderr.write('PEAK_RSS_KIB %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
               "sys.exit(p.returncode)")
    start = time.perf_counter()
    child = subprocess.run([PYTHON, "-c", wrapper, *map(str, command)], capture_output=True, text=True,
                           env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise Failure(f"{' '.join(map(str, command))} failed (exit {child.returncode}):\n{child.stderr.strip()}")
    rss = [line for line in child.stderr.splitlines() if line.startswith("PEAK_RSS_KIB ")]
    return Finished(child.stdout, int(rss[-1].split()[1]) / 1024, seconds)


def vaelet_bench(binary, name, batch, threads, seconds):
    """images/s of vaelet_bench's `name`/`batch` (wall clock), with Eigen on `threads` threads."""
    stdout = run([binary, f"--benchmark_filter=^{name}/{batch}/", f"--benchmark_min_time={seconds}",
                  "--benchmark_format=json"], env={"OMP_NUM_THREADS": str(threads)}).stdout
    found = json.loads(stdout)["benchmarks"]
    if not found:
        raise Failure(f"{binary} has no benchmark {name}/{batch}; rebuild it (cmake --build --preset release)")
    return found[0]["items_per_second"]


def pytorch_speed(mode, batch, threads, seconds, arch="mlp"):
    stdout = run([PYTHON, PYTORCH_VAE, mode, "--arch", arch, "--batch", str(batch), "--threads", str(threads),
                  "--seconds", str(seconds), "--json"]).stdout
    return json.loads(stdout)["images_per_s"]


def speed_rows(args, threads, raw):
    """Table rows for one thread count: training and inference at batch 128 and 1, and the tape's cost."""
    bench = args.bin / "vaelet_bench"
    rows, rates = [], {}
    for label, name, mode, batch, unit, target in [
        ("training, batch 128", "vae_train_step", "train-speed", 128, "images/s", 1.5),
        ("training, batch 1", "vae_train_step", "train-speed", 1, "steps/s", 5.0),
        ("inference, batch 128", "vae_inference", "infer-speed", 128, "images/s", 1.0),
        ("inference, batch 1", "vae_inference", "infer-speed", 1, "images/s", 5.0),
    ]:
        ours = vaelet_bench(bench, name, batch, threads, args.seconds)
        theirs = pytorch_speed(mode, batch, threads, args.seconds)
        raw.append({"figure": label, "threads": threads, "vaelet": ours, "pytorch": theirs})
        rates[label] = (ours, theirs)
        rows.append([f"{label}, {unit}", threads, f"{ours:,.0f}", f"{theirs:,.0f}", f"{ours / theirs:.2f}x",
                     f">= {target:g}x", "yes" if ours / theirs >= target else "no"])
    if args.data.is_dir():
        rows += epoch_rows(args, threads, raw, step_rates=rates["training, batch 128"])
    tape = vaelet_bench(bench, "vae_train_step", 128, threads, args.seconds)
    hand = vaelet_bench(bench, "vae_reference_step", 128, threads, args.seconds)
    raw.append({"figure": "tape vs hand-derived step, batch 128", "threads": threads, "vaelet": tape, "hand": hand})
    slower = hand / tape - 1  # > 0: the tape's step takes that much longer than the hand-derived one
    rows.append(["tape's cost vs a hand-derived Eigen step, batch 128", threads, f"{tape:,.0f} images/s",
                 f"(hand: {hand:,.0f})", f"{100 * slower:+.0f}% time", "<= +15%", "yes" if slower <= 0.15 else "no"])
    return rows


def last_epoch(run_dir, column):
    """`column` of the last epoch in a vaelet-mnist run's metrics.csv."""
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    return float(lines[-1].split(",")[lines[0].split(",").index(column)])


EPOCH_TARGET = {1: 1.8, 2: 2.5}  # issue #18: the epoch as the programs run it, against PyTorch's


def epoch_rows(args, threads, raw, step_rates):
    """The user's figure: one epoch of each program on --data (training images/s as each reports it: shuffling,
    batches, the optimizer; not the evaluation), beside the step's rate of the rows before."""
    with tempfile.TemporaryDirectory(prefix="compare_pytorch.") as tmp:
        run([args.bin / "vaelet-mnist", "train", "--data", args.data, "--out", Path(tmp) / "run", "--epochs", 1,
             "--threads", threads, "--seed", args.seed])
        ours = last_epoch(Path(tmp) / "run", "images_per_s")
    theirs = json.loads(run([PYTHON, PYTORCH_VAE, "train", "--data", args.data, "--epochs", 1, "--threads", threads,
                             "--seed", args.seed, "--json"]).stdout)["epochs"][-1]["images_per_s"]
    raw.append({"figure": "training epoch, batch 128", "threads": threads, "vaelet": ours, "pytorch": theirs})
    target = EPOCH_TARGET.get(threads, 1.5)
    return [[f"training epoch, batch 128, images/s (each program's own figure, {args.data.name})", threads,
             f"{ours:,.0f}", f"{theirs:,.0f}", f"{ours / theirs:.2f}x", f">= {target:g}x",
             "yes" if ours / theirs >= target else "no"],
            ["epoch rate / step rate, batch 128", threads, f"{100 * ours / step_rates[0]:.0f}%",
             f"{100 * theirs / step_rates[1]:.0f}%", "", "vaelet >= 95%", "yes" if ours >= 0.95 * step_rates[0] else "no"]]


def conv_speed_rows(args, threads, raw):
    """Table rows of the conv VAE for one thread count: a training step and inference at batch 128."""
    bench = args.bin / "vaelet_bench"
    rows = []
    for label, name, mode in [("conv VAE training, batch 128", "vae_conv_train_step", "train-speed"),
                              ("conv VAE inference, batch 128", "vae_conv_inference", "infer-speed")]:
        ours = vaelet_bench(bench, name, 128, threads, args.seconds)
        theirs = pytorch_speed(mode, 128, threads, args.seconds, arch="conv")
        raw.append({"figure": label, "threads": threads, "vaelet": ours, "pytorch": theirs})
        rows.append([f"{label}, images/s", threads, f"{ours:,.0f}", f"{theirs:,.0f}", f"{ours / theirs:.2f}x",
                     ">= 1.5x", "yes" if ours / theirs >= 1.5 else "no"])
    return rows


RSS_TARGET_MIB = {"mlp": 80, "conv": 150}  # peak RSS targets of the 10-epoch run (issues #18 and #14)


def quality_rows(args, arch, raw):
    """Table rows from training both models `arch` for args.epochs epochs: test loss, peak RSS, wall time."""
    threads = args.threads[0]
    with tempfile.TemporaryDirectory(prefix="compare_pytorch.") as tmp:
        ours = run([args.bin / "vaelet-mnist", "train", "--arch", arch, "--data", args.data, "--out",
                    Path(tmp) / "run", "--epochs", args.epochs, "--threads", threads, "--seed", args.seed])
        ours_loss = last_epoch(Path(tmp) / "run", "test_loss")
    theirs = run([PYTHON, PYTORCH_VAE, "train", "--arch", arch, "--data", args.data, "--epochs", args.epochs,
                  "--threads", threads, "--seed", args.seed, "--json"])
    theirs_loss = json.loads(theirs.stdout)["epochs"][-1]["test_loss"]
    raw.append({"figure": "train", "model": arch, "epochs": args.epochs, "data": str(args.data), "threads": threads,
                "vaelet": {"test_loss": ours_loss, "peak_rss_mib": ours.peak_rss_mib, "seconds": ours.seconds},
                "pytorch": {"test_loss": theirs_loss, "peak_rss_mib": theirs.peak_rss_mib, "seconds": theirs.seconds}})
    what = f"{'conv VAE' if arch == 'conv' else 'MLP'}, {args.epochs} epochs on {args.data}"
    rss = RSS_TARGET_MIB[arch]
    return [[f"test loss, {what}, nats/image", threads, f"{ours_loss:.2f}", f"{theirs_loss:.2f}",
             f"{ours_loss - theirs_loss:+.2f}", "within 1 nat", "yes" if abs(ours_loss - theirs_loss) <= 1 else "no"],
            [f"peak RSS, {what}, MiB", threads, f"{ours.peak_rss_mib:.0f}", f"{theirs.peak_rss_mib:.0f}",
             f"{ours.peak_rss_mib / theirs.peak_rss_mib:.2f}x", f"<= {rss} MiB",
             "yes" if ours.peak_rss_mib <= rss else "no"],
            [f"wall time, {what}, s (incl. evaluation, pictures)", threads, f"{ours.seconds:.1f}",
             f"{theirs.seconds:.1f}", f"{theirs.seconds / ours.seconds:.2f}x faster", "", ""]]


def compare_checkpoint(args):
    stdout = run([args.bin / "vaelet-mnist", "eval", "--ckpt", args.ckpt, "--data", args.data, "--k", "1",
                  "--iwae-k", "1", "--seed", str(args.seed)]).stdout
    ours = next(float(line.split()[1]) for line in stdout.splitlines() if line.strip().startswith("-ELBO"))
    arch = "conv" if b'"conv1.weight"' in args.ckpt.read_bytes()[:1 << 20] else "mlp"  # the safetensors header
    stdout = run([PYTHON, PYTORCH_VAE, "eval", "--arch", arch, "--weights", args.ckpt, "--data", args.data,
                  "--json"]).stdout
    theirs = json.loads(stdout)["test_loss"]
    print(f"test loss of {args.ckpt} on {args.data}, nats/image (z sampled in both):")
    print(f"  vaelet-mnist eval    {ours:.4f}\n  PyTorch (its model)  {theirs:.4f}\n  difference           {ours - theirs:+.4f}")
    return {"vaelet": ours, "pytorch": theirs}


def print_table(rows):
    header = ["figure", "threads", "vaelet", "PyTorch", "ratio", "target", "met"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["---:"] * 4 + ["---"] * 2) + "|")
    for row in rows:
        print("| " + " | ".join(map(str, row)) + " |")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, default=ROOT / "build" / "release" / "bin",
                        help="where vaelet_bench and vaelet-mnist are (default build/release/bin)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "fashion", help="IDX data (default data/fashion)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--models", default="mlp,conv",
                        help="which models to compare, comma-separated: mlp, conv (default both)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per speed figure and program (default 3)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the training comparison; 0 skips it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ckpt", type=Path, help="only compare this checkpoint's test loss in vaelet and PyTorch")
    parser.add_argument("--json", type=Path, help="also write every raw figure to this file")
    args = parser.parse_args(argv)
    try:
        args.threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads must be comma-separated numbers such as 1,2; got '{args.threads}'")
    args.models = args.models.split(",")
    if not set(args.models) <= {"mlp", "conv"}:
        parser.error(f"--models must be mlp, conv or both (comma-separated); got '{','.join(args.models)}'")
    if not args.threads or min(args.threads) < 1 or args.seconds <= 0 or args.epochs < 0:
        parser.error("--threads must be at least 1, --seconds positive and --epochs 0 or more")
    return args


def main(argv):
    args = parse_args(argv)
    if subprocess.run([PYTHON, "-c", "import torch"], capture_output=True).returncode != 0:
        print(f"compare_pytorch: skipped: {PYTHON} cannot import torch; install it with "
              "`apt-get install python3-torch libopenblas0-pthread` to compare")
        return 0
    needed = ([args.bin / "vaelet-mnist"] if args.ckpt or args.epochs else []) + \
        ([] if args.ckpt else [args.bin / "vaelet_bench"])
    missing = [str(p) for p in needed if not p.is_file()]
    try:
        if missing:
            raise Failure(f"{', '.join(missing)} not found; build first: cmake --workflow --preset release")
        if (args.ckpt or args.epochs) and not args.data.is_dir():
            raise Failure(f"no data in {args.data}; fetch it: scripts/get-data fashion (or mnist), or pass --data DIR")
        if args.ckpt:
            raw = compare_checkpoint(args)
        else:
            raw, rows = [], []
            for threads in args.threads:
                if "mlp" in args.models:
                    rows += speed_rows(args, threads, raw)
                if "conv" in args.models:
                    rows += conv_speed_rows(args, threads, raw)
            if args.epochs:
                for arch in args.models:
                    rows += quality_rows(args, arch, raw)
            print_table(rows)
            print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load average "
                  f"{os.getloadavg()[0]:.2f} at the end; vaelet: OMP_NUM_THREADS=N; PyTorch: torch.set_num_threads(N), "
                  "OPENBLAS_NUM_THREADS=1; speed figures are wall-clock rates")
    except Failure as e:
        print(f"compare_pytorch: error: {e}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
