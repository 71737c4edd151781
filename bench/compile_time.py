#!/usr/bin/python3
"""bench/compile_time.py — what compiling vaelet costs: user CPU seconds and peak RSS, and where the time goes.

  bench/compile_time.py                          # (a) the umbrella, (b) the README tour, (c) the programs' TUs
  bench/compile_time.py --whole                  # + (d) a clean release build and its tests, in a fresh directory
  bench/compile_time.py --where examples/02_vae_in_memory.cpp     # one file: g++'s phases, clang's top costs

(a) an empty main() that includes <vaelet/vaelet.hpp> and (b) examples/02_vae_in_memory.cpp (the README's library
tour) are compiled as a user compiles them: `g++ -std=c++17 -O2` with the include directories and VAELET_HAVE_*
definitions the build gives vaelet::vaelet, header-only, then again in the compiled mode (-DVAELET_COMPILED=1:
the float and double instantiations come from the vaelet::compiled library, docs/performance.md, "Compile time").
(c) each translation unit of vaelet-mnist, vaelet-tabular and the compiled library, with the build's own command
(the release preset: -O3 -march=x86-64-v3 -fopenmp). One compile at a time, so that each figure is its own.
(d) configures build/compile-time-whole with the release preset's settings, builds it with -j2 and runs ctest -j2:
wall minutes and the CPU minutes of every process.
--where FILE: g++ -ftime-report's phases (parsing, instantiating what inline code uses, optimizing and generating
code) and, with clang++ -ftime-trace, the headers that take longest to parse and the templates that take longest to
instantiate.

Needs a configured release build (cmake --preset release) for its compile_commands.json. Prints Markdown tables.
Compile-time figures are measured here and written in docs/performance.md, never asserted by a test.
"""
import argparse
import collections
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "examples" / "02_vae_in_memory.cpp"
PROGRAM_DIRS = ("examples/mnist/", "examples/tabular/", "src/")


def children_cpu_seconds():
    """User + system CPU seconds of every child process reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compile_once(argv):
    """Compiles once under /usr/bin/time; returns (user s, peak RSS MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %M"] + argv,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            sys.exit(f"compile_time.py: this compile failed:\n  {shlex.join(argv)}\n{proc.stdout[-3000:]}")
        user, rss_kb = report.read().split()[-2:]
        return float(user), int(rss_kb) / 1024.0


def compile_best(argv, repeat):
    runs = [compile_once(argv) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def load_commands(build):
    path = build / "compile_commands.json"
    if not path.exists():
        sys.exit(f"compile_time.py: {path} is missing; configure the release build first (cmake --preset release)")
    return json.loads(path.read_text())


def without_output(argv, out):
    """The build's command with its object file sent to `out` (the build tree's own stays as it was)."""
    argv = list(argv)
    i = argv.index("-o")
    argv[i + 1] = out
    return argv


def user_flags(commands):
    """What a user's program gets from vaelet::vaelet: the include directories and definitions of a numbered example
    (which links vaelet_dev alone), without the project's warnings, -O3 and -march."""
    for entry in commands:
        if entry["file"].endswith("examples/02_vae_in_memory.cpp"):
            argv = shlex.split(entry["command"])
            flags, skip = [], False
            for a in argv[1:]:
                if skip:
                    flags.append(a)
                    skip = False
                elif a.startswith(("-D", "-I")):
                    flags.append(a)
                elif a == "-isystem":
                    flags.append(a)
                    skip = True
            return [argv[0], "-std=c++17", "-O2"] + [f for f in flags if f != "-DNDEBUG"]
    sys.exit("compile_time.py: examples/02_vae_in_memory.cpp is not in compile_commands.json; build with examples")


def user_rows(commands, repeat, tmp):
    cxx = user_flags(commands)
    empty = Path(tmp) / "empty.cpp"
    empty.write_text("#include <vaelet/vaelet.hpp>\nint main() {}\n")
    compiled = any(e["file"].startswith(str(ROOT / "src")) for e in commands)
    rows = []
    for label, source in (("(a) empty main + <vaelet/vaelet.hpp>", empty), ("(b) README tour (example 02)", TOUR)):
        for mode, extra in (("header-only", []), ("compiled mode", ["-DVAELET_COMPILED=1"])):
            if extra and not compiled:
                continue
            user, rss = compile_best(cxx + extra + ["-c", str(source), "-o", str(Path(tmp) / "x.o")], repeat)
            rows.append((f"{label}, {mode}", user, rss))
    return rows


def program_rows(commands, repeat, tmp):
    rows = []
    for entry in sorted(commands, key=lambda e: e["file"]):
        rel = os.path.relpath(entry["file"], ROOT)
        if not rel.startswith(PROGRAM_DIRS):
            continue
        if rel.startswith("src/") and "vaelet_dev_compiled" not in entry["command"]:
            continue  # vaelet::compiled and compiled_openmp compile the same files: the build's own copy only
        argv = without_output(shlex.split(entry["command"]), str(Path(tmp) / "x.o"))
        user, rss = compile_best(argv, repeat)
        rows.append((f"(c) {rel}", user, rss))
    return rows


def whole_build():
    """A clean release build and its tests in a fresh directory: wall and CPU minutes of each."""
    build = ROOT / "build" / "compile-time-whole"
    subprocess.run(["rm", "-rf", str(build)], check=True)
    rows = []
    # The preset's binaries go to build/release/bin: sent here instead, so that the release build is not touched.
    steps = (("configure", ["cmake", "--preset", "release", "-B", str(build),
                            f"-DCMAKE_RUNTIME_OUTPUT_DIRECTORY={build / 'bin'}"]),
             ("build -j2", ["cmake", "--build", str(build), "-j2"]),
             ("ctest -j2", ["ctest", "--test-dir", str(build), "-j2"]))
    for label, argv in steps:
        cpu, start = children_cpu_seconds(), time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu
        if proc.returncode != 0:
            sys.exit(f"compile_time.py: {label} failed:\n{proc.stdout[-3000:]}")
        rows.append((f"(d) {label}", wall, cpu))
    return rows


def where(file, commands):
    """g++'s phases for `file` with the build's command (or the user's for a file outside the build), then clang's
    slowest headers and templates."""
    file = Path(file).resolve()
    entry = next((e for e in commands if Path(e["file"]) == file), None)
    argv = shlex.split(entry["command"]) if entry else user_flags(commands) + ["-c", str(file), "-o", "x.o"]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "x.o")
        argv = without_output(argv, out)
        proc = subprocess.run(argv + ["-ftime-report"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(f"g++ -ftime-report, {os.path.relpath(file, ROOT)} (user s, share):")
        for line in proc.stdout.splitlines():
            m = re.match(r"\s*(phase [^:]*|TOTAL)\s*:\s*([0-9.]+)", line)
            if m and float(m.group(2)) > 0:
                print(f"  {m.group(1):28s} {m.group(2):>7s} s")
        clang = [a for a in argv if a not in ("-fopenmp",)]
        clang[0] = "clang++"
        proc = subprocess.run(clang + ["-ftime-trace", "-ftime-trace-granularity=20"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        trace = Path(out).with_suffix(".json")
        if proc.returncode != 0 or not trace.exists():
            print("clang++ -ftime-trace did not run here; g++'s phases only")
            return
        events = [e for e in json.loads(trace.read_text())["traceEvents"] if e.get("ph") == "X"]
    totals = {e["name"][6:]: e["dur"] / 1e6 for e in events if e["name"].startswith("Total ")}
    print(f"\nclang++ -ftime-trace: front end {totals.get('Frontend', 0):.1f} s, "
          f"back end {totals.get('Backend', 0):.1f} s")
    # A header's own parse time: its Source events minus the headers nested inside it.
    sources = sorted((e for e in events if e["name"] == "Source"), key=lambda e: (e["ts"], -e["dur"]))
    own = collections.Counter()
    stack = []
    for e in sources:
        while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
            stack.pop()
        if stack:
            own[stack[-1]["args"]["detail"]] -= e["dur"]
        own[e["args"]["detail"]] += e["dur"]
        stack.append(e)
    print("  headers, own parse time (s):")
    for name, dur in own.most_common(12):
        print(f"    {dur / 1e6:6.2f}  {os.path.relpath(name, ROOT) if name.startswith(str(ROOT)) else name}")
    for kind in ("InstantiateFunction", "InstantiateClass"):
        by_template = collections.Counter()
        for e in events:
            if e["name"] == kind:
                by_template[re.sub(r"<.*", "<>", e["args"]["detail"])] += e["dur"]
        print(f"  {kind} by template, inclusive (s):")
        for name, dur in by_template.most_common(12):
            print(f"    {dur / 1e6:6.2f}  {name}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(ROOT / "build" / "release"), help="a configured build (its "
                        "compile_commands.json); default build/release")
    parser.add_argument("--repeat", type=int, default=1, help="compile each file this many times, keep the fastest")
    parser.add_argument("--whole", action="store_true", help="also time a clean release build and its tests")
    parser.add_argument("--where", metavar="FILE", help="where one file's compile time goes")
    args = parser.parse_args()
    commands = load_commands(Path(args.build))
    if args.where:
        where(args.where, commands)
        return
    version = subprocess.run(["g++", "--version"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[0]
    print(f"{version}; {time.strftime('%Y-%m-%d')}; `bench/compile_time.py{' --whole' if args.whole else ''}`\n")
    print("| what | user CPU s | peak RSS MB |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, user, rss in user_rows(commands, args.repeat, tmp) + program_rows(commands, args.repeat, tmp):
            print(f"| {label} | {user:.1f} | {rss:.0f} |", flush=True)
    if args.whole:
        print("\n| step | wall min | CPU min |\n|---|---:|---:|")
        for label, wall, cpu in whole_build():
            print(f"| {label} | {wall / 60:.1f} | {cpu / 60:.1f} |", flush=True)


if __name__ == "__main__":
    main()
