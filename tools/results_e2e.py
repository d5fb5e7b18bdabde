#!/usr/bin/env python3
"""Makes docs/results.md's E2E table: every method fine-tuned on one budget, decoded, scored.

For each method (full, ft-top-k with k = 2, houlsby, lora, prefix, parallel, mam by default):

  build/train finetune --task e2e --model MODEL --method M --steps S --batch B --seed SEED
                       --max-train N --max-dev D --out OUT/M [--lr ...] [--meteor-data DIR]
  build/train eval --run OUT/M --split dev --max-inputs D --outputs OUT/M/eval/dev.txt [--meteor-data DIR]

Every run has the same budget (steps, batch, seed, training pairs, dev inputs); the learning rate is
each method's paper preset (train/lib/method.h: paper_learning_rate) unless `--lr METHOD=VALUE` overrides
it, and an override is printed in the generated section. The table is read from the files the runs
wrote, never typed: the five E2E metrics from OUT/M/eval/dev.scores.json (`train eval`), the
trainable-parameter count from OUT/M/scores.json (`train finetune`), the percentage against the base
model's parameter count read from MODEL/model.safetensors' header, the learning rate from
OUT/M/config.json and the final training loss from OUT/M/log.jsonl.

With --torch, also tools/oracle/finetune_torch.py (PyTorch + transformers + peft, the oracle venv)
with OUT/lora/config.json, i.e. the same LoRA run, into OUT/torch-lora; then build/petl_score scores
petl's LoRA outputs and PyTorch's against the same references, so the "petl LoRA" and "PyTorch+peft
LoRA" rows come from one scorer.

The generated text replaces what lies between the markers <!-- results:begin --> and
<!-- results:end --> in --results (docs/results.md); the prose around them stays. A method whose
OUT/M/eval/dev.scores.json exists is not run again (delete OUT/M to redo it); one interrupted after a
checkpoint is continued with `train finetune --resume`.

Standard library only. Example (a smoke test, not the table's budget):
  PETL_DATA_DIR=../shared/data nice tools/results_e2e.py --steps 20 --max-dev 20 --out /tmp/res --torch
"""

import argparse
import json
import math
import os
import shlex
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALL_METHODS = ["full", "ft-top-k", "houlsby", "lora", "prefix", "parallel", "mam"]
METRICS = [("bleu", "BLEU"), ("nist", "NIST"), ("meteor", "METEOR"), ("rouge_l", "ROUGE-L"), ("cider", "CIDEr")]
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
DEFAULT_VENVS = [REPO / "tools" / "oracle" / ".venv" / "bin" / "python"]  # tools/oracle/setup_venv.sh


class Failure(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--model", default=str(REPO / "models" / "gpt2-petl-small"), help="base GPT-2 directory")
    p.add_argument("--steps", type=int, required=True, help="optimizer steps of every run (the budget)")
    p.add_argument("--batch", type=int, default=10, help="examples per step [10]")
    p.add_argument("--seed", type=int, default=0, help="seed of every run [0]")
    p.add_argument("--max-train", type=int, default=0, help="first N training pairs (0: all) [0]")
    p.add_argument("--max-dev", type=int, default=0, help="first N distinct dev MRs decoded and scored (0: all 547) [0]")
    p.add_argument("--finetune-max-dev", type=int, default=-1,
                   help="distinct dev MRs `train finetune` itself decodes at its end and takes its dev loss on "
                        "(the table comes from `train eval` over --max-dev; -1: --max-dev) [-1]")
    p.add_argument("--decode-batch", type=int, default=16, help="inputs decoded together (outputs do not depend on it) [16]")
    p.add_argument("--methods", default=",".join(ALL_METHODS), help=f"comma-separated [{','.join(ALL_METHODS)}]")
    p.add_argument("--lr", action="append", default=[], metavar="METHOD=VALUE",
                   help="override a method's paper learning rate (repeatable)")
    p.add_argument("--finetune-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for every `train finetune` (repeatable, e.g. --finetune-arg=--warmup=100)")
    p.add_argument("--out", required=True, help="directory of the runs (OUT/<method>)")
    p.add_argument("--meteor-data", default=os.environ.get("PETL_METEOR_DATA", ""),
                   help="METEOR data directory (docs/meteor.md) [$PETL_METEOR_DATA; no METEOR without it]")
    p.add_argument("--build", default=str(REPO / "build"), help="build directory holding train and petl_score")
    p.add_argument("--results", default=str(REPO / "docs" / "results.md"), help="the file whose marked section is rewritten")
    p.add_argument("--torch", action="store_true", help="add the PyTorch+peft LoRA comparison (needs lora among --methods)")
    p.add_argument("--torch-python", default="", help="python of the oracle venv (tools/oracle/setup_venv.sh)")
    p.add_argument("--torch-init", choices=["petl", "peft"], default="petl", help="LoRA init of the PyTorch run [petl]")
    p.add_argument("--torch-threads", type=int, default=2, help="torch threads [2]")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = p.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in ALL_METHODS]
    if unknown:
        p.error(f"--methods: unknown {', '.join(unknown)} (valid: {', '.join(ALL_METHODS)})")
    lrs = {}
    for item in args.lr:
        method, _, value = item.partition("=")
        if method not in ALL_METHODS or not value:
            p.error(f"--lr {item}: expected METHOD=VALUE with METHOD one of {', '.join(ALL_METHODS)}")
        try:
            lrs[method] = float(value)
        except ValueError:
            p.error(f"--lr {item}: '{value}' is not a number")
    args.lr = lrs
    if args.torch and "lora" not in args.methods:
        p.error("--torch compares with petl's LoRA run: include lora in --methods")
    if args.steps < 1:
        p.error("--steps must be >= 1")
    return args


def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise Failure(f"{path}: {e}") from e


def base_parameter_count(model_dir):
    """Sum of the tensors' element counts in model.safetensors (8-byte little-endian header length,
    then the JSON header; the tied lm_head is not stored)."""
    path = Path(model_dir) / "model.safetensors"
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
    except (OSError, struct.error, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Failure(f"{path}: cannot read the safetensors header: {e}") from e
    return sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__")


def run(cmd, log, dry_run, env=None):
    print("+ " + shlex.join(cmd), flush=True)
    if dry_run:
        return
    t0 = time.time()
    with open(log, "w", encoding="utf-8") as f:
        code = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    if code != 0:
        tail = Path(log).read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise Failure(f"exit {code} after {time.time() - t0:.0f} s: {shlex.join(cmd)}\n  (log {log})\n  " + "\n  ".join(tail))
    print(f"  done in {time.time() - t0:.0f} s (log {log})", flush=True)


def finetune_command(args, method, run_dir, resume):
    cmd = [str(Path(args.build) / "train"), "finetune", "--task", "e2e", "--model", args.model, "--method", method,
           "--steps", str(args.steps), "--batch", str(args.batch), "--seed", str(args.seed),
           "--max-train", str(args.max_train),
           "--max-dev", str(args.max_dev if args.finetune_max_dev < 0 else args.finetune_max_dev),
           "--decode-batch", str(args.decode_batch), "--out", str(run_dir)]
    if method in args.lr:
        cmd += ["--lr", repr(args.lr[method])]
    if args.meteor_data:
        cmd += ["--meteor-data", args.meteor_data]
    cmd += args.finetune_arg
    if resume:
        cmd.append("--resume")
    return cmd


def eval_command(args, run_dir):
    cmd = [str(Path(args.build) / "train"), "eval", "--run", str(run_dir), "--split", "dev",
           "--max-inputs", str(args.max_dev), "--decode-batch", str(args.decode_batch),
           "--outputs", str(run_dir / "eval" / "dev.txt")]
    if args.meteor_data:
        cmd += ["--meteor-data", args.meteor_data]
    return cmd


def run_method(args, method, commands):
    run_dir = Path(args.out) / method
    scores_file = run_dir / "eval" / "dev.scores.json"
    ft, ev = finetune_command(args, method, run_dir, False), eval_command(args, run_dir)
    commands.append(shlex.join(ft))
    commands.append(shlex.join(ev))
    if scores_file.exists():
        print(f"{method}: {scores_file} exists, not run again", flush=True)
        return
    if not args.dry_run:
        run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / "scores.json").exists():
        resume = (run_dir / "checkpoint.safetensors").exists()
        run(finetune_command(args, method, run_dir, resume), run_dir / "finetune.log", args.dry_run)
    run(ev, run_dir / "eval.log", args.dry_run)


def final_loss(run_dir):
    loss = None
    for line in (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "loss" in record:
            loss = record["loss"]
    return loss


def first_loss(log_file):
    for line in Path(log_file).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "loss" in record:
            return record["loss"]
    return None


def fmt(value, digits=4):
    return "–" if value is None else f"{value:.{digits}f}"


def method_row(args, method, base_count):
    run_dir = Path(args.out) / method
    scores = read_json(run_dir / "eval" / "dev.scores.json")["scores"]
    summary = read_json(run_dir / "scores.json")
    config = read_json(run_dir / "config.json")
    trainable = summary["trainable_parameters"]
    label = f"{method} (k = {config['method-options']['k']})" if method == "ft-top-k" else method
    cells = [label] + [fmt(scores.get(key)) for key, _ in METRICS]
    cells += [f"{trainable:,}", f"{100.0 * trainable / base_count:.3f}%", f"{config['lr']:g}",
              fmt(final_loss(run_dir)), str(summary["steps"])]
    return "| " + " | ".join(cells) + " |"


def petl_score(args, refs, outputs):
    cmd = [str(Path(args.build) / "petl_score"), "--task", "e2e", "--refs", str(refs), "--outputs", str(outputs)]
    if args.meteor_data:
        cmd += ["--meteor-data", args.meteor_data]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"{shlex.join(cmd)} failed: {done.stderr.strip()}")
    scores = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            scores[parts[0].lower()] = float(parts[1])
    return scores, shlex.join(cmd)


def torch_python(args):
    if args.torch_python:
        return args.torch_python
    for candidate in DEFAULT_VENVS:
        if candidate.is_file():
            return str(candidate)
    raise Failure("no oracle venv: run tools/oracle/setup_venv.sh and pass its python as --torch-python")


def run_torch(args, commands):
    lora_dir, torch_dir = Path(args.out) / "lora", Path(args.out) / "torch-lora"
    cmd = [torch_python(args), str(REPO / "tools" / "oracle" / "finetune_torch.py"), "--config",
           str(lora_dir / "config.json"), "--max-dev", str(args.max_dev), "--decode-batch", str(args.decode_batch),
           "--out", str(torch_dir), "--init", args.torch_init, "--compare-log",
           str(lora_dir / "log.jsonl"), "--petl-score", str(Path(args.build) / "petl_score"),
           "--threads", str(args.torch_threads)]
    if args.meteor_data:
        cmd += ["--meteor-data", args.meteor_data]
    commands.append(shlex.join(cmd))
    if (torch_dir / "scores.json").exists():
        print(f"torch-lora: {torch_dir / 'scores.json'} exists, not run again", flush=True)
        return
    if not args.dry_run:
        torch_dir.mkdir(parents=True, exist_ok=True)
    run(cmd, torch_dir / "finetune_torch.log", args.dry_run)


def torch_section(args, commands):
    lora_dir, torch_dir = Path(args.out) / "lora", Path(args.out) / "torch-lora"
    refs = torch_dir / "outputs" / "dev_references.csv"  # the decoded MRs' rows, written by finetune_torch.py
    ours, cmd_ours = petl_score(args, refs, lora_dir / "eval" / "dev.txt")
    theirs, cmd_theirs = petl_score(args, refs, torch_dir / "outputs" / "dev.txt")
    commands += [cmd_ours, cmd_theirs]
    torch_summary = read_json(torch_dir / "scores.json")
    petl_summary = read_json(lora_dir / "scores.json")
    petl_dev = None
    for line in (lora_dir / "log.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "eval" in record:
            petl_dev = record["eval"].get("dev_loss")
    head = "| system | " + " | ".join(name for _, name in METRICS) + " | step-1 loss | final train loss | dev loss | trainable |"
    rule = "|---" * (len(METRICS) + 5) + "|"
    rows = [
        ["petl LoRA"] + [fmt(ours.get(k)) for k, _ in METRICS]
        + [fmt(first_loss(lora_dir / "log.jsonl"), 6), fmt(final_loss(lora_dir)), fmt(petl_dev),
           f"{petl_summary['trainable_parameters']:,}"],
        ["PyTorch+peft LoRA"] + [fmt(theirs.get(k)) for k, _ in METRICS]
        + [fmt(first_loss(torch_dir / "log.jsonl"), 6), fmt(torch_summary.get("final_train_loss")),
           fmt(torch_summary.get("best_dev_loss")), f"{torch_summary['trainable_parameters']:,}"],
    ]
    lines = [head, rule] + ["| " + " | ".join(r) + " |" for r in rows]
    same = (lora_dir / "eval" / "dev.txt").read_bytes() == (torch_dir / "outputs" / "dev.txt").read_bytes()
    lines.append("")
    lines.append(f"PyTorch {torch_summary.get('torch', '?')} + peft, LoRA init `{args.torch_init}`; both output files "
                 f"scored by `petl_score` against the same references; the two output files are "
                 f"{'identical' if same else 'different'}.")
    return lines


def shown(text, args):
    """A command as the reader can repeat it: paths inside the repository relative to its root (the
    commands are run from there), and this machine's places (the runs' directory, METEOR's data, the
    oracle venv's python given as --torch-python) as the names OUT, METEOR_DATA and PYTHON the generated text defines."""
    text = str(text)
    for path, name in ((args.out, "OUT"), (args.meteor_data, "METEOR_DATA"), (args.torch_python, "PYTHON")):
        if path:
            text = text.replace(str(path).rstrip("/"), name)
    return text.replace(str(REPO) + "/", "")


def write_results(args, base_count, commands):
    lines = [BEGIN, "", f"Generated by `tools/results_e2e.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}:",
             "", "```sh", shown(shlex.join([sys.argv[0]] + sys.argv[1:]), args), "```", "",
             "OUT: the runs' directory (`--out`), METEOR_DATA: METEOR's data directory (`--meteor-data`, "
             "docs/meteor.md), PYTHON: the oracle venv's python (`--torch-python`, `tools/oracle/setup_venv.sh`).", "",
             f"Base model `{shown(args.model, args)}` ({base_count:,} parameters); {args.steps} steps of {args.batch} pairs, seed "
             f"{args.seed}, {'all' if args.max_train == 0 else f'the first {args.max_train:,}'} training pairs; "
             f"{'all' if args.max_dev == 0 else f'the first {args.max_dev}'} distinct dev MRs, E2E scores in the "
             f"official scorer's scales{'' if args.meteor_data else ' (METEOR not computed: no --meteor-data)'}.",
             ""]
    if args.lr:
        lines += ["Learning-rate overrides (not the paper presets): "
                  + ", ".join(f"{m} {v:g}" for m, v in sorted(args.lr.items())) + ".", ""]
    if args.finetune_arg:
        lines += ["Extra `train finetune` arguments: `" + " ".join(args.finetune_arg) + "`.", ""]
    lines.append("| method | " + " | ".join(name for _, name in METRICS)
                 + " | trainable | % of base | lr | final train loss | steps |")
    lines.append("|---" * (len(METRICS) + 6) + "|")
    for method in args.methods:
        lines.append(method_row(args, method, base_count))
    if args.torch:
        lines += ["", "### petl and PyTorch + peft, the same LoRA run", ""] + torch_section(args, commands)
    lines += ["", "<details><summary>every command the table came from (from the repository root)</summary>", "",
              "```sh"] + [shown(c, args) for c in commands] + \
             ["```", "", "</details>", "", END]
    results = Path(args.results)
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    if BEGIN not in text or END not in text:
        raise Failure(f"{results}: the markers {BEGIN} and {END} are missing; add them where the table goes")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    new = before + "\n".join(lines) + after
    fd, tmp = tempfile.mkstemp(dir=results.parent, prefix="." + results.name + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, results)
    print(f"wrote the table into {results}", flush=True)


def main(argv):
    args = parse_args(argv)
    for exe in ("train", "petl_score"):
        if not (Path(args.build) / exe).is_file() and not args.dry_run:
            raise Failure(f"{Path(args.build) / exe} not found: build the targets train and petl_score first")
    base_count = base_parameter_count(args.model)
    commands = []
    for method in args.methods:
        run_method(args, method, commands)
    if args.torch:
        run_torch(args, commands)
    if args.dry_run:
        return 0
    write_results(args, base_count, commands)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as e:
        print(f"results_e2e: {e}", file=sys.stderr)
        sys.exit(2)
