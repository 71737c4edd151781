#!/usr/bin/env python3
"""bench/contention.py — vaelet-mnist train on a busy machine: what share of its quiet one-thread speed it keeps.

  python3 bench/contention.py                                  # 2 busy neighbours, Fashion-MNIST in data/fashion
  python3 bench/contention.py --data /work/data/fashion --neighbours 2 --settings default 1 2 --repeat 3

For each setting of --threads (`default`: the program's default, which chooses between one thread and one per
core as it trains; a number: that fixed count), one epoch of `vaelet-mnist train` runs first on the quiet machine,
then with --neighbours busy processes (each a loop that never sleeps, as another user's job) started just before
and stopped just after. The figure is the epoch's training images/s from RUN/metrics.csv, and the share kept is
busy / quiet one-thread: issue #18 asks ≥ 50% at the default with two neighbours on a 2-core machine. Medians of
--repeat runs. Run it on an otherwise quiet machine: the quiet runs are the yardstick.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUSY_LOOP = "while True: pass"


def epoch_rate(program, data, threads, limit):
    """Training images/s of one epoch of `vaelet-mnist train` with `threads` (None: the default)."""
    with tempfile.TemporaryDirectory() as run:
        command = [str(program), "train", "--data", data, "--out", run, "--epochs", "1"]
        if threads is not None:
            command += ["--threads", str(threads)]
        if limit:
            command += ["--limit", str(limit)]
        child = subprocess.run(command, capture_output=True, text=True)
        if child.returncode != 0:
            sys.exit(f"contention: {' '.join(command)} failed ({child.returncode}):\n{child.stderr[-2000:]}")
        with open(Path(run) / "metrics.csv") as f:
            return float(list(csv.DictReader(f))[-1]["images_per_s"])


def with_neighbours(count, work):
    """Runs work() while `count` busy processes run beside it."""
    neighbours = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]
    try:
        return work()
    finally:
        for n in neighbours:
            n.kill()
        for n in neighbours:
            n.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT / "data" / "fashion"), help="an MNIST-format directory")
    parser.add_argument("--program", default=str(ROOT / "build" / "release" / "bin" / "vaelet-mnist"))
    parser.add_argument("--neighbours", type=int, default=2, help="busy processes beside the busy runs")
    parser.add_argument("--settings", nargs="+", default=["default", "1", "2"],
                        help="--threads settings to measure: default, or a count")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (the median is reported)")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    args = parser.parse_args()
    if not Path(args.program).exists():
        sys.exit(f"contention: {args.program} not found; build it (cmake --workflow --preset release)")
    if not (Path(args.data) / "train-images-idx3-ubyte.gz").exists() and not (Path(args.data) / "train-images-idx3-ubyte").exists():
        sys.exit(f"contention: no MNIST-format data in {args.data}; fetch it with scripts/get-data fashion {args.data}")

    def median_rate(threads, busy):
        rates = []
        for _ in range(args.repeat):
            run = lambda: epoch_rate(args.program, args.data, threads, args.limit)
            rates.append(with_neighbours(args.neighbours, run) if busy else run())
        return statistics.median(rates)

    rows = []
    for setting in args.settings:
        threads = None if setting == "default" else int(setting)
        rows.append((setting, median_rate(threads, False), median_rate(threads, True)))
    yardstick = next((quiet for setting, quiet, _ in rows if setting == "1"), None)
    if yardstick is None:
        yardstick = median_rate(1, False)
    print(f"vaelet-mnist train, one epoch of {args.data}, {os.cpu_count()} cores, {args.neighbours} busy neighbours; "
          f"images/s, medians of {args.repeat}")
    print()
    print("| --threads | quiet | busy | busy / quiet one-thread |")
    print("|---|---:|---:|---:|")
    for setting, quiet, busy in rows:
        print(f"| {setting} | {quiet:,.0f} | {busy:,.0f} | {100 * busy / yardstick:.0f}% |")


if __name__ == "__main__":
    main()
