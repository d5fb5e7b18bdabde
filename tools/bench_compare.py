"""Alternates petl_bench's GEMM entries with tools/oracle/bench_torch.py's on the same machine and
prints the medians side by side, with petl / torch speed ratios.

  "$(tools/oracle/setup_venv.sh)" tools/bench_compare.py [-n 5] [--only cpu_gemm,...] [--quick]
      [LABEL=path/to/petl_bench ...]        (default: petl=build/petl_bench)

Each of the N rounds runs every petl_bench given (several builds, e.g. one per PETL_BLAS choice)
and then bench_torch.py, each a fresh process, the order rotating from round to round so no
program always runs right after another. A row's figure is the median over the rounds of that
program's own median GFLOP/s. On a shared machine the absolute numbers move with the load; the
ratios of interleaved medians are what to read. Run it with the oracle venv's python (it starts
bench_torch.py with the same interpreter).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"^(?:torch )?gemm f32 (?P<label>\S+)\s+(?P<shape>\d+x\s*\d+x\s*\d+) (?P<layout>[NT]{2}) batch\s+"
                  r"(?P<batch>\d+)\s+1 thread\s+(?P<one>[\d.]+) GFLOP/s\s+2 threads\s+(?P<two>[\d.]+) GFLOP/s")
KERNEL = re.compile(r"^gemm kernel: (.*)$")


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows, kernel = {}, None
    for line in out.splitlines():
        if m := LINE.match(line):
            key = (m["label"], re.sub(r"\s+", "", m["shape"]), m["layout"], int(m["batch"]))
            rows[key] = (float(m["one"]), float(m["two"]))
        elif m := KERNEL.match(line):
            kernel = m[1]
    if not rows:
        raise SystemExit(f"bench_compare: no GEMM lines in the output of {' '.join(cmd)}:\n{out}")
    return rows, kernel


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--only", default="cpu_gemm,cpu_gemm_gpt2_b4_t64")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("builds", nargs="*", default=["petl=build/petl_bench"])
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    programs = []
    for spec in args.builds:
        label, sep, path = spec.partition("=")
        if not sep or not os.access(path, os.X_OK):
            raise SystemExit(f"bench_compare: expected LABEL=path/to/petl_bench (an executable), got {spec!r}")
        programs.append((label, [path, "--only", args.only] + (["--quick"] if args.quick else [])))
    programs.append(("torch", [sys.executable, os.path.join(here, "oracle", "bench_torch.py"), "--only", args.only]
                     + (["--quick"] if args.quick else [])))

    samples = {label: {} for label, _ in programs}
    kernels = {}
    for r in range(args.n):
        order = programs[r % len(programs):] + programs[:r % len(programs)]
        for label, cmd in order:
            rows, kernel = run(cmd)
            kernels[label] = kernel
            for key, value in rows.items():
                samples[label].setdefault(key, []).append(value)
        print(f"round {r + 1}/{args.n} done", file=sys.stderr, flush=True)

    labels = [label for label, _ in programs]
    print(f"{args.n} interleaved rounds, medians of GFLOP/s at 1 / 2 threads; ratio = petl / torch speed")
    for label in labels:
        print(f"  {label}: {kernels.get(label)}")
    keys = list(samples["torch"])
    header = f"{'shape':<38}" + "".join(f"{label + ' 1t/2t':>20}" for label in labels)
    header += "".join(f"{label + '/torch 1t 2t':>24}" for label in labels[:-1])
    print(header)
    slower = []
    for key in keys:
        med = {}
        for label in labels:
            values = samples[label].get(key)
            if not values:
                raise SystemExit(f"bench_compare: {label} printed no line for {key}")
            med[label] = (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        name, shape, layout, batch = key
        line = f"{name + ' ' + shape + ' ' + layout + (f' x{batch}' if batch > 1 else ''):<38}"
        line += "".join(f"{med[l][0]:9.1f} /{med[l][1]:7.1f}  " for l in labels)
        for label in labels[:-1]:
            line += f"{med[label][0] / med['torch'][0]:14.2f} {med[label][1] / med['torch'][1]:7.2f}  "
            if med[label][1] < med[label][0]:
                slower.append(f"{label} {name} {shape} {layout}")
        print(line)
    if slower:
        print("slower with 2 threads than with 1 (median): " + "; ".join(slower))


if __name__ == "__main__":
    main()
