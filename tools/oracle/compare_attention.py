"""petl's fused CPU attention beside torch's scaled_dot_product_attention, run alternately.

Runs `petl_bench --only <entries>` and `bench_torch.py --only <entries>` one after the other, `--rounds`
times (petl first in odd rounds, torch first in even ones), so slow phases of a shared machine hit
both; each run already reports the median of many calls. Prints, per shape, thread count and measure,
the median over rounds of each side and the speed ratio torch time / petl time (above 1: petl faster).

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
                  r"forward ([\d.]+) ms(?:\s+forward\+backward ([\d.]+) ms)?")


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
            for tool, shape, threads, fwd, fwd_bwd in run(cmd):
                for measure, value in (("forward", fwd), ("forward+backward", fwd_bwd)):
                    if value is None:
                        continue
                    key = (shape, int(threads), measure)
                    if key not in order:
                        order.append(key)
                    times[(tool,) + key].append(float(value))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"median over {args.rounds} alternating rounds (ms); speed = torch time / petl time")
    print(f"{'shape':<34} {'thr':>3} {'measure':<17} {'petl':>9} {'torch':>9} {'speed':>6}")
    for shape, threads, measure in order:
        p = statistics.median(times[("petl", shape, threads, measure)])
        t = statistics.median(times[("torch", shape, threads, measure)])
        print(f"{shape:<34} {threads:>3} {measure:<17} {p:>9.3f} {t:>9.3f} {t / p:>6.2f}")


if __name__ == "__main__":
    main()
