"""petl's fused CPU attention beside torch's scaled_dot_product_attention, run alternately.

Runs `petl_bench --only <entries>` and `bench_torch.py --only <entries>` one after the other, `--rounds`
times (petl first in odd rounds, torch first in even ones), so slow phases of a shared machine hit
both; each run already reports the median of many calls. Prints, per shape, thread count and measure,
the median over rounds of each side and the speed ratio torch time / petl time (above 1: petl faster),
for the wall clock and for the process CPU time (steadier while other jobs share the machine).

  "$(tools/oracle/setup_venv.sh)" tools/oracle/compare_attention.py --bench build/petl_bench [--rounds 5]
"""

import argparse
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ENTRIES = "cpu_attention,cpu_attention_b8_t256,cpu_attention_b4_t64,cpu_attention_decode"
LINE = re.compile(r"^(petl|torch) attention causal (B=\d+ H=\d+ Tq=\d+ Tk=\d+ D=\d+) threads=(\d+)\s+"
                  r"forward ([\d.]+) ms \(cpu ([\d.]+) ms\)(?:\s+forward\+backward ([\d.]+) ms \(cpu ([\d.]+) ms\))?")


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            rows.append(m.groups())
    if not rows:
        raise SystemExit(f"compare_attention: no attention lines from {' '.join(cmd)}:\n{out}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", default="build/petl_bench", help="the petl_bench executable")
    parser.add_argument("--only", default=ENTRIES)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch_script = str(Path(__file__).with_name("bench_torch.py"))
    petl_cmd = [args.bench, "--only", args.only] + (["--quick"] if args.quick else [])
    torch_cmd = [sys.executable, torch_script, "--only", args.only] + (["--quick"] if args.quick else [])
    times = defaultdict(list)  # (tool, shape, threads, measure) -> ms per round
    order = []
    for r in range(args.rounds):
        for cmd in (petl_cmd, torch_cmd) if r % 2 == 0 else (torch_cmd, petl_cmd):
            for tool, shape, threads, fwd, fwd_cpu, both, both_cpu in run(cmd):
                for measure, wall, cpu in (("forward", fwd, fwd_cpu), ("forward+backward", both, both_cpu)):
                    if wall is None:
                        continue
                    key = (shape, int(threads), measure)
                    if key not in order:
                        order.append(key)
                    times[(tool,) + key].append((float(wall), float(cpu)))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"median over {args.rounds} alternating rounds (ms per call); speed = torch time / petl time; "
          "cpu = process CPU time of all threads")
    print(f"{'shape':<34} {'thr':>3} {'measure':<17} {'petl':>9} {'torch':>9} {'speed':>6}   "
          f"{'petl cpu':>9} {'torch cpu':>9} {'speed':>6}")
    for shape, threads, measure in order:
        p = [statistics.median(x) for x in zip(*times[("petl", shape, threads, measure)])]
        t = [statistics.median(x) for x in zip(*times[("torch", shape, threads, measure)])]
        print(f"{shape:<34} {threads:>3} {measure:<17} {p[0]:>9.3f} {t[0]:>9.3f} {t[0] / p[0]:>6.2f}   "
              f"{p[1]:>9.3f} {t[1]:>9.3f} {t[1] / p[1]:>6.2f}")


if __name__ == "__main__":
    main()
