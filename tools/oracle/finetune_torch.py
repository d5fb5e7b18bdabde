"""Fine-tunes a petl base model with PyTorch + transformers + peft, the way `train finetune` does.

The reference run for docs/results.md: the same base directory (GPT2LMHeadModel + GPT2TokenizerFast
from its vocab.json / merges.txt), the same training pairs in the same sequence form, the same batches
in the same order, the same optimizer and schedule, and the same decoding; the outputs go to a file in
the scorers' format and are scored by petl's own `petl_score`, so both BLEUs come from one scorer.
What is mirrored, each from the C++ file it follows:

  pairs     train/tool/tasks.cpp, train/data/e2e.cpp: E2E source = the MR linearized as the LoRA files
            ("name : X | Type : Y", values word-tokenized), target = the raw reference; dev inputs are
            the distinct sources in file order, each with all its references
  sequence  train/tool/lm_data.cpp: ids = bpe(source) eos bpe(" " + target) eos, labels -100 over
            bpe(source) eos; pairs longer than max-length (capped at n_positions) left out
  order     train/lib/batching.cpp: Fisher-Yates shuffle by the counter-based RNG (tensor/random.h)
            keyed by (seed, epoch), pools of batch*50 sorted by length, batches shuffled; right padding
            with eos, mask 0
  loss      nn/gpt2.cpp: logits[t] predict labels[t+1], mean over labels != -100 (transformers' loss)
  step      train/lib/trainer.cpp: loss / accum per micro-batch, clip_grad_norm (torch's formula is
            petl's), lr = linear_warmup_decay(peak, s - 1, warmup, total), AdamW (0.9, 0.999, 1e-8)
  LoRA      train/lib/method.cpp: r, alpha, dropout on GPT-2's whole c_attn (peft's form); with
            --init petl, lora_A takes petl's initial values (U(+-1/sqrt(d_in)) drawn by petl's RNG
            with seed + 0x9E3779B97F4A7C15, layer by layer), lora_B = 0 as in both
  decoding  train/tool/lm_data.cpp, decoding.cpp: batches of decode-batch left-padded prompts
            bpe(source) eos, transformers' generate (beam search, early_stopping=True, pad = eos),
            max-new-tokens capped at n_positions - prompt width, output cut at the first eos, special
            tokens dropped, invalid UTF-8 bytes -> U+FFFD one per byte, tabs/newlines -> spaces, trimmed

What differs and cannot be made equal: dropout masks (torch's RNG, not petl's counter-based one;
with every dropout at 0 the two runs see the same numbers up to float rounding); peft's prefix tuning
(its own init, and peft puts the prefix as a past of length P so the tokens take positions P..P+T-1,
where petl keeps 0..T-1 as AdapterHub does); float summation order.

Settings: the names and defaults of `train finetune`; `--config RUN/config.json` takes every setting of
a petl run (what tools/results_e2e.py does), flags override it. `--compare-log RUN/log.jsonl` prints
petl's loss next to ours for each step. `--adapter DIR` skips training and decodes with a peft LoRA
adapter directory (petl writes one to RUN/adapter): a check that this decoding reproduces petl's.

Usage (the oracle venv, tools/oracle/setup_venv.sh):
  python tools/oracle/finetune_torch.py --config RUN/config.json --out RUN_TORCH \
      [--method lora|prefix] [--init petl|peft] [--compare-log RUN/log.jsonl] [--meteor-data DIR]
"""

import argparse
import codecs
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
MASK64 = (1 << 64) - 1

# `train finetune`'s settings and defaults (train/tool/cmd_finetune.cpp, train/tool/decoding.cpp).
FINETUNE_DEFAULTS = {
    "model": "", "task": "e2e", "data": "", "train-file": "", "dev-file": "", "method": "lora",
    "method-options": {}, "epochs": 5, "steps": 0, "batch": 10, "accum": 1, "lr": None, "warmup": 0,
    "weight-decay": 0.0, "clip": 1.0, "dropout": None, "seed": 0, "max-length": 256, "max-train": 0,
    "max-dev": 0, "eval-every": 0, "eval-metric": "dev_loss", "patience": 0, "save-every": 100,
    "meteor-data": "", "examples": 0, "beams": 5, "max-new-tokens": 64, "length-penalty": 1.0,
    "no-repeat-ngram": 0, "decode-batch": 16,
}
# train/lib/method.cpp: the paper presets of the methods this script runs.
METHOD_DEFAULTS = {
    "lora": {"r": 4, "alpha": 32.0, "dropout": 0.1, "target_modules": ["c_attn"], "qkv_blocks": [True]},
    "prefix": {"length": 5, "hidden": 512, "projection": True},
}
PAPER_LR = {"lora": 2e-4, "prefix": 8e-5}
POOL_BATCHES = 50  # train::LoopOptions::pool_batches


class UsageError(Exception):
    pass


# ---------------------------------------------------------------- petl's counter-based RNG (tensor/random.h)
def mix64(x):
    """SplitMix64 finalizer on uint64 numpy arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def mix64_int(x):
    return int(mix64(np.array([x & MASK64], dtype=np.uint64))[0])


def random_bits(seed, counters):
    return mix64(np.uint64(mix64_int(seed)) ^ np.asarray(counters, dtype=np.uint64))


def random_uniform(seed, counters):
    """(0, 1): 53 random bits, offset by half a step."""
    return ((random_bits(seed, counters) >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def shuffle_indices(indices, seed, stream):
    """train::shuffle_indices: Fisher-Yates with j = random_bits(key, i) % i."""
    key = mix64_int(seed ^ mix64_int(stream + 0x5851F42D4C957F2D))
    n = len(indices)
    if n < 2:
        return
    draws = random_bits(key, np.arange(n, 1, -1, dtype=np.uint64))  # counters i = n, n-1, ..., 2
    for k, i in enumerate(range(n, 1, -1)):
        j = int(draws[k]) % i
        indices[i - 1], indices[j] = indices[j], indices[i - 1]


def epoch_batches(lengths, batch_size, seed, epoch):
    """train::epoch_batches: shuffle, sort pools of batch*50 by length (stable), cut, shuffle batches."""
    order = list(range(len(lengths)))
    shuffle_indices(order, seed, 2 * epoch)
    pool = batch_size * POOL_BATCHES
    for start in range(0, len(order), pool):
        order[start:start + pool] = sorted(order[start:start + pool], key=lambda e: lengths[e])
    batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    batch_order = list(range(len(batches)))
    shuffle_indices(batch_order, seed, 2 * epoch + 1)
    return [batches[b] for b in batch_order]


# ---------------------------------------------------------------- E2E data (train/data/e2e.cpp)
RENAMED = {"eatType": "Type", "priceRange": "price", "familyFriendly": "family friendly"}


def is_ascii_alnum(c):
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9")


def is_non_ascii_symbol(c):
    o = ord(c)
    return 0xA1 <= o <= 0xBF or o in (0xD7, 0xF7) or 0x2000 <= o <= 0x206F or 0x20A0 <= o <= 0x20CF


def e2e_word_tokenize(text):
    """data::e2e_word_tokenize: spaces around every non-word character, clitics split off."""
    out = []

    def separate():
        if out and out[-1] != " ":
            out.append(" ")

    for pos, c in enumerate(text):
        if c in " \t\n\r\u00a0":
            separate()
        elif is_ascii_alnum(c) or (ord(c) >= 0x80 and not is_non_ascii_symbol(c)):
            out.append(c)
        elif c == "'" and out and out[-1] != " " and pos + 1 < len(text) and is_ascii_alnum(text[pos + 1]):
            separate()
            out.append("'")
        else:
            separate()
            out.append(c)
            out.append(" ")
    return "".join(out).rstrip(" ")


def parse_e2e_mr(mr, where):
    attributes, pos = [], 0
    while pos < len(mr):
        open_ = mr.find("[", pos)
        if open_ < 0:
            raise UsageError(f"{where}: MR '{mr}': expected 'attr[value]' at character {pos}, found no '['")
        close = mr.find("]", open_)
        if close < 0:
            raise UsageError(f"{where}: MR '{mr}': '[' at character {open_} is never closed by ']'")
        name = mr[pos:open_]
        if not name:
            raise UsageError(f"{where}: MR '{mr}': empty attribute name at character {pos}")
        attributes.append((name, mr[open_ + 1:close]))
        pos = close + 1
        if pos == len(mr):
            break
        if mr[pos:pos + 2] != ", " or pos + 2 >= len(mr):
            raise UsageError(f"{where}: MR '{mr}': expected ', attr[value]' after ']' at character {pos}")
        pos += 2
    if not attributes:
        raise UsageError(f"{where}: empty MR")
    return attributes


def linearize_e2e_mr(mr, where):
    return " | ".join(f"{RENAMED.get(n, n)} : {e2e_word_tokenize(v)}" for n, v in parse_e2e_mr(mr, where))


def read_e2e_rows(path):
    """(mr, ref, line) per row of an E2E CSV with header mr,ref."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != ["mr", "ref"]:
                raise UsageError(f"{path}:1: expected the header 'mr,ref', found {header!r}")
            for record in reader:
                where = f"{path}:{reader.line_num}"
                if len(record) != 2:
                    raise UsageError(f"{where}: expected 2 fields (mr,ref), found {len(record)}")
                if not record[0]:
                    raise UsageError(f"{where}: field 'mr' is empty")
                rows.append((record[0], record[1], reader.line_num))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"{path}: cannot read the E2E CSV: {e}") from e
    return rows


def load_split(task, path):
    """train/tool/tasks.cpp: (source, target) pairs, distinct inputs in order, references per input,
    and for E2E the raw MR of each input (to write a references file petl_score reads)."""
    if task == "e2e":
        pairs, raw = [], {}
        for mr, ref, line in read_e2e_rows(path):
            source = linearize_e2e_mr(mr, f"{path}:{line}")
            pairs.append((source, ref))
            raw.setdefault(source, mr)
    elif task == "jsonl":
        pairs, raw = [], {}
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip(" \t\r\n"):
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UsageError(f"{path}:{number}: invalid JSON: {e}") from e
                if not isinstance(row, dict) or not isinstance(row.get("source"), str) \
                        or not isinstance(row.get("target"), str) or not row["source"]:
                    raise UsageError(f"{path}:{number}: expected {{\"source\": non-empty text, \"target\": text}}")
                pairs.append((row["source"], row["target"]))
    else:
        raise UsageError(f"task '{task}': this script runs e2e and jsonl (train finetune has more)")
    inputs, references, index = [], [], {}
    for source, target in pairs:
        if source not in index:
            index[source] = len(inputs)
            inputs.append(source)
            references.append([])
        references[index[source]].append(target)
    return {"pairs": pairs, "inputs": inputs, "references": references, "raw": raw, "file": path}


def first_inputs(split, max_dev):
    if max_dev <= 0 or max_dev >= len(split["inputs"]):
        return split
    inputs, references = split["inputs"][:max_dev], split["references"][:max_dev]
    pairs = [(s, r) for s, refs in zip(inputs, references) for r in refs]
    return dict(split, inputs=inputs, references=references, pairs=pairs)


# ---------------------------------------------------------------- sequences (train/tool/lm_data.cpp)
def encode_prompt(tok, source, eos):
    return tok.encode(source, add_special_tokens=False) + [eos]


def encode_pairs(tok, pairs, eos, max_length):
    examples, dropped = [], 0
    for source, target in pairs:
        ids = encode_prompt(tok, source, eos)
        labels = [-100] * len(ids)
        tail = tok.encode(" " + target, add_special_tokens=False) + [eos]
        ids, labels = ids + tail, labels + tail
        if len(ids) > max_length:
            dropped += 1
            continue
        examples.append((ids, labels))
    return examples, dropped


def make_batch(examples, indices, pad_id):
    width = max(len(examples[i][0]) for i in indices)
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    labels = torch.full((len(indices), width), -100, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    tokens = 0
    for r, i in enumerate(indices):
        e_ids, e_labels = examples[i]
        ids[r, :len(e_ids)] = torch.tensor(e_ids)
        labels[r, :len(e_labels)] = torch.tensor(e_labels)
        mask[r, :len(e_ids)] = 1
        tokens += len(e_ids)
    return ids, labels, mask, tokens


def linear_warmup_decay(peak, step, warmup, total):
    """train::linear_warmup_decay, step 0-based."""
    if step < warmup:
        return peak * step / max(1, warmup)
    return peak * max(0.0, (total - step) / max(1, total - warmup))


# ---------------------------------------------------------------- settings
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="a `train finetune` config.json (RUN/config.json): every setting of that run")
    p.add_argument("--out", required=True, help="output directory (log.jsonl, outputs/dev.txt, scores.json)")
    for name, default in FINETUNE_DEFAULTS.items():
        if name in ("examples", "save-every"):
            continue
        p.add_argument("--" + name, default=None,
                       help=f"as `train finetune --{name}` [{json.dumps(default)}]")
    p.add_argument("--init", choices=["petl", "peft"], default="petl",
                   help="LoRA's lora_A: petl's initial values (same start as `train finetune`) or peft's own draw")
    p.add_argument("--adapter", help="skip training: decode with this peft LoRA adapter directory (e.g. RUN/adapter)")
    p.add_argument("--compare-log", help="a petl run's log.jsonl: print its loss next to ours at each step")
    p.add_argument("--petl-score", default=str(REPO / "build" / "petl_score"), help="petl_score executable")
    p.add_argument("--threads", type=int, default=2, help="torch threads [2]")
    return p.parse_args(argv)


def coerce(name, value):
    """A flag's text as the type of train finetune's default."""
    default = FINETUNE_DEFAULTS[name]
    if name == "method-options":
        options = json.loads(value) if isinstance(value, str) else value
        if not isinstance(options, dict):
            raise UsageError(f"--method-options: expected a JSON object, got {value!r}")
        return options
    if name in ("lr", "dropout"):
        return None if value is None else float(value)
    if isinstance(default, bool):
        return value in (True, "1", "true")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return str(value)


def resolve_settings(args):
    settings = dict(FINETUNE_DEFAULTS)
    if args.config:
        try:
            given = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise UsageError(f"--config {args.config}: {e}") from e
        if not isinstance(given, dict):
            raise UsageError(f"--config {args.config}: expected a JSON object")
        for k, v in given.items():
            if k in settings:
                settings[k] = v
    if args.method is not None and args.method != settings["method"]:
        # another method than the config's: its options and paper lr, not the config's method's
        settings["method-options"], settings["lr"] = {}, None
    for name in FINETUNE_DEFAULTS:
        value = getattr(args, name.replace("-", "_"), None)
        if value is not None:
            settings[name] = value
    for name in FINETUNE_DEFAULTS:
        if settings[name] is not None:
            settings[name] = coerce(name, settings[name])
    method = settings["method"]
    if method not in METHOD_DEFAULTS:
        raise UsageError(f"method '{method}': this script runs {', '.join(METHOD_DEFAULTS)}")
    options = dict(METHOD_DEFAULTS[method])
    for k, v in settings["method-options"].items():
        if k not in options:
            raise UsageError(f"method {method}: unknown option '{k}' (valid: {', '.join(options)})")
        options[k] = v
    settings["method-options"] = options
    if settings["lr"] is None:
        settings["lr"] = PAPER_LR[method]
    if settings["eval-metric"] != "dev_loss":
        raise UsageError(f"--eval-metric {settings['eval-metric']}: this script keeps the best dev_loss only")
    return settings


def data_files(s):
    data = s["data"] or os.environ.get("PETL_DATA_DIR", str(REPO.parent / "shared" / "data")) + "/" + s["task"]
    names = {"e2e": ("trainset.csv", "devset.csv"), "jsonl": ("train.jsonl", "dev.jsonl")}[s["task"]]
    return s["train-file"] or f"{data}/{names[0]}", s["dev-file"] or f"{data}/{names[1]}"


# ---------------------------------------------------------------- model
def load_base(s):
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    model_dir = Path(s["model"]) if s["model"] else REPO / "models" / "gpt2-petl-small"
    for f in ("config.json", "model.safetensors", "vocab.json", "merges.txt"):
        if not (model_dir / f).is_file():
            raise UsageError(f"model directory {model_dir} lacks {f}")
    config = GPT2Config.from_pretrained(model_dir)
    if s["dropout"] is not None:  # train finetune --dropout: resid, embd and attn alike
        config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = s["dropout"]
    model = GPT2LMHeadModel.from_pretrained(model_dir, config=config, dtype=torch.float32)
    eos_id = config.eos_token_id
    eos = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
    eos_text = next(t for t, i in eos.items() if i == eos_id)
    tok = GPT2TokenizerFast(vocab=str(model_dir / "vocab.json"), merges=str(model_dir / "merges.txt"),
                            unk_token=eos_text, bos_token=eos_text, eos_token=eos_text, add_prefix_space=False)
    return model_dir, model, tok, eos_id


def attach(model, s):
    from peft import LoraConfig, PrefixTuningConfig, TaskType, get_peft_model

    o = s["method-options"]
    if s["method"] == "lora":
        if list(o["qkv_blocks"]) != [True]:
            raise UsageError("lora qkv_blocks other than [true] (loralib's q/v blocks) has no peft form")
        config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=int(o["r"]), lora_alpha=float(o["alpha"]),
                            lora_dropout=float(o["dropout"]), target_modules=list(o["target_modules"]),
                            fan_in_fan_out=True, bias="none")
        torch.manual_seed(s["seed"])
        peft_model = get_peft_model(model, config)
        if s["init"] == "petl":
            load_petl_lora_init(peft_model, s["seed"])
        return peft_model
    config = PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=int(o["length"]),
                                prefix_projection=bool(o["projection"]), encoder_hidden_size=int(o["hidden"]))
    torch.manual_seed(s["seed"])
    return get_peft_model(model, config)


def load_petl_lora_init(peft_model, seed):
    """lora_A as petl draws it (peft/lora.cpp, train/lib/method.cpp, tensor/cpu/random.cpp): one
    Generator(seed + 0x9E3779B97F4A7C15) for all layers in model order, each reserving r*d_in counters;
    value = float32(-b + 2b * u(counter)), b = 1/sqrt(d_in), row-major [r, d_in]."""
    init_seed = (seed + 0x9E3779B97F4A7C15) & MASK64
    offset = 0
    layers = [(n, m) for n, m in peft_model.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A]
    layers.sort(key=lambda item: [int(x) if x.isdigit() else x for x in item[0].split(".")])
    with torch.no_grad():
        for _, m in layers:
            weight = m.lora_A["default"].weight
            r, d_in = weight.shape
            bound = 1.0 / math.sqrt(d_in)
            u = random_uniform(init_seed, np.arange(offset, offset + r * d_in, dtype=np.uint64))
            offset += r * d_in
            weight.copy_(torch.from_numpy((-bound + 2 * bound * u).astype(np.float32).reshape(r, d_in)))
            m.lora_B["default"].weight.zero_()


# ---------------------------------------------------------------- decoding
def replace_one_byte(error):
    return "\ufffd", error.start + 1


codecs.register_error("petl_one_per_byte", replace_one_byte)


def token_bytes(tok):
    """GPT-2's byte-level alphabet (bytes_to_unicode) reversed: token text -> raw bytes."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_of = {chr(c): b for b, c in zip(bs, cs)}
    special = set(tok.all_special_ids)
    table = {}
    for text, i in tok.get_vocab().items():
        table[i] = b"" if i in special else bytes(byte_of[ch] for ch in text)
    return table


def decode_inputs(model, tok, inputs, s, eos, n_positions):
    """train/tool/lm_data.cpp decode_inputs, with transformers' generate. `n_positions`: the positions
    the tokens may take (peft's prefix takes P of the model's)."""
    table = token_bytes(tok)
    outputs, min_new = [], 16
    batch_size = s["decode-batch"]
    model.eval()
    for start in range(0, len(inputs), batch_size):
        prompts = []
        for source in inputs[start:start + batch_size]:
            p = encode_prompt(tok, source, eos)
            if len(p) + min_new > n_positions:
                p = p[:max(1, n_positions - min_new - 1)] + [eos]
            prompts.append(p)
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), eos, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for r, p in enumerate(prompts):
            ids[r, width - len(p):] = torch.tensor(p)
            mask[r, width - len(p):] = 1
        max_new = min(s["max-new-tokens"], n_positions - width)
        with torch.no_grad():
            seqs = model.generate(input_ids=ids, attention_mask=mask, num_beams=s["beams"], do_sample=False,
                                  max_new_tokens=max_new, length_penalty=s["length-penalty"],
                                  no_repeat_ngram_size=s["no-repeat-ngram"], early_stopping=True,
                                  eos_token_id=eos, pad_token_id=eos)
        for row in seqs[:, width:].tolist():
            generated = []
            for t in row:
                if t == eos:
                    break
                generated.append(t)
            text = b"".join(table[t] for t in generated).decode("utf-8", errors="petl_one_per_byte")
            text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ").strip(" \n\t")
            outputs.append(text)
        print(f"decoded {min(len(inputs), start + batch_size)}/{len(inputs)}", file=sys.stderr, flush=True)
    return outputs


def write_atomic(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def score(s, split, outputs, out_dir, petl_score, meteor_data):
    """petl_score on the outputs; for E2E against a CSV of the decoded inputs' rows only."""
    if s["task"] != "e2e":
        raise UsageError("scoring with petl_score is wired for e2e only")
    refs = Path(out_dir) / "outputs" / "dev_references.csv"
    rows = [["mr", "ref"]] + [[split["raw"][i], r] for i, refs_ in zip(split["inputs"], split["references"]) for r in refs_]
    with open(refs, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    cmd = [petl_score, "--task", "e2e", "--refs", str(refs), "--outputs", str(Path(out_dir) / "outputs" / "dev.txt")]
    if meteor_data:
        cmd += ["--meteor-data", meteor_data]
    if not Path(petl_score).is_file():
        raise UsageError(f"{petl_score} not found: build target petl_score, or pass --petl-score")
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise UsageError(f"{' '.join(cmd)} failed ({run.returncode}): {run.stderr.strip()}")
    scores = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            scores[parts[0].lower()] = float(parts[1])
    return scores, " ".join(cmd)


# ---------------------------------------------------------------- training
def read_petl_losses(path):
    losses = {}
    if path:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "loss" in record:
                losses[record["step"]] = record
    return losses


def dev_loss(model, examples, s, eos):
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(examples), s["batch"]):
            idx = list(range(start, min(len(examples), start + s["batch"])))
            ids, labels, mask, _ = make_batch(examples, idx, eos)
            total += forward_loss(model, ids, labels, mask).item() * len(idx)
            n += len(idx)
    model.train()
    return total / n if n else float("nan")


def forward_loss(model, ids, labels, mask):
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def train(model, examples, dev_examples, s, eos, out_dir, petl_losses):
    lengths = [len(e[0]) for e in examples]
    batch, accum = s["batch"], s["accum"]
    steps_per_epoch = max(1, (len(examples) + batch - 1) // batch // accum)
    total = s["steps"] if s["steps"] > 0 else s["epochs"] * steps_per_epoch
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=s["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=s["weight-decay"])
    epoch, next_batch = 0, 0
    batches = epoch_batches(lengths, batch, s["seed"], epoch)
    log_lines, best, best_state, best_step = [], None, None, 0
    evals_without_improvement = 0
    model.train()
    t0 = time.time()
    step = 0
    while step < total:
        optimizer.zero_grad(set_to_none=True)
        loss_sum, tokens = 0.0, 0
        for _ in range(accum):
            if next_batch >= len(batches):
                epoch, next_batch = epoch + 1, 0
                batches = epoch_batches(lengths, batch, s["seed"], epoch)
            ids, labels, mask, n = make_batch(examples, batches[next_batch], eos)
            next_batch += 1
            loss = forward_loss(model, ids, labels, mask)
            if not math.isfinite(loss.item()):
                raise UsageError(f"the loss became {loss.item()} at step {step + 1}: training diverged")
            (loss / accum).backward()
            loss_sum += loss.item()
            tokens += n
        if s["clip"] > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, s["clip"]))
        else:
            grad_norm = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params if p.grad is not None])))
        lr = linear_warmup_decay(s["lr"], step, s["warmup"], total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        step += 1
        record = {"step": step, "loss": loss_sum / accum, "lr": lr, "grad_norm": grad_norm, "tokens": tokens,
                  "elapsed_s": time.time() - t0}
        log_lines.append(json.dumps(record))
        if step in petl_losses:  # the same batch has the same token count in both logs
            theirs = petl_losses[step]
            same = "same batch tokens" if theirs.get("tokens") == tokens else f"TOKENS DIFFER ({theirs.get('tokens')})"
            print(f"step {step}: loss torch+peft {record['loss']:.6f}  petl {theirs['loss']:.6f}  "
                  f"difference {record['loss'] - theirs['loss']:+.2e}  ({tokens} tokens, {same})", flush=True)
        elif step == 1 or step % 10 == 0 or step == total:
            print(f"step {step}/{total}: loss {record['loss']:.4f} lr {lr:.3g} grad_norm {grad_norm:.4f}", flush=True)
        last = step == total
        if dev_examples and ((s["eval-every"] > 0 and step % s["eval-every"] == 0) or last):
            value = dev_loss(model, dev_examples, s, eos)
            log_lines.append(json.dumps({"step": step, "eval": {"dev_loss": value}}))
            print(f"eval at step {step}: dev_loss {value:.4f}", flush=True)
            if best is None or value < best:
                best, best_step, evals_without_improvement = value, step, 0
                best_state = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
            else:
                evals_without_improvement += 1
            if s["patience"] > 0 and evals_without_improvement >= s["patience"]:
                print(f"early stop at step {step}", flush=True)
                break
    write_atomic(Path(out_dir) / "log.jsonl", "\n".join(log_lines) + "\n")
    if best_state is not None:
        with torch.no_grad():
            for k, v in model.named_parameters():
                if k in best_state:
                    v.copy_(best_state[k])
    return {"steps": step, "best_step": best_step, "final_train_loss": record["loss"], "best_dev_loss": best,
            "train_seconds": time.time() - t0}


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    s = resolve_settings(args)
    s["init"] = args.init
    if args.adapter and s["method"] != "lora":
        raise UsageError("--adapter decodes with a peft LoRA adapter: --method must be lora")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_file, dev_file = data_files(s)
    model_dir, model, tok, eos = load_base(s)
    n_positions = model.config.n_positions
    if s["method"] == "prefix" and not args.adapter:  # peft's prefix takes positions 0..P-1: the tokens come after
        n_positions -= int(s["method-options"]["length"])
    max_length = min(s["max-length"], n_positions)
    dev = first_inputs(load_split(s["task"], dev_file), s["max-dev"])
    summary = {"settings": s, "model": str(model_dir), "train_file": train_file, "dev_file": dev_file,
               "torch": torch.__version__}
    if args.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, args.adapter)
        summary["adapter"] = args.adapter
    else:
        train_split = load_split(s["task"], train_file)
        pairs = train_split["pairs"][:s["max-train"]] if s["max-train"] > 0 else train_split["pairs"]
        examples, dropped = encode_pairs(tok, pairs, eos, max_length)
        dev_examples, _ = encode_pairs(tok, dev["pairs"], eos, max_length)
        if not examples:
            raise UsageError(f"no training pair fits in max-length {max_length}")
        model = attach(model, s)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print(f"finetune_torch: {model_dir} on {s['task']} ({len(examples)} training pairs, {dropped} longer than "
              f"{max_length} left out, {len(dev['inputs'])} dev inputs), method {s['method']} "
              f"{json.dumps(s['method-options'])}: {trainable} trainable parameters"
              + (f", LoRA init {args.init}" if s["method"] == "lora" else ", peft's init"), flush=True)
        summary.update(train(model, examples, dev_examples, s, eos, out_dir, read_petl_losses(args.compare_log)))
        summary["trainable_parameters"] = trainable
        summary["dropped_pairs"] = dropped
        model.save_pretrained(out_dir / "adapter")
    t0 = time.time()
    outputs = decode_inputs(model, tok, dev["inputs"], s, eos, n_positions)
    summary["decode_seconds"] = time.time() - t0
    write_atomic(out_dir / "outputs" / "dev.txt", "".join(o + "\n" for o in outputs))
    meteor = s["meteor-data"] or os.environ.get("PETL_METEOR_DATA", "")
    summary["scores"], summary["score_command"] = score(s, dev, outputs, out_dir, args.petl_score, meteor)
    summary["dev_inputs"] = len(dev["inputs"])
    write_atomic(out_dir / "scores.json", json.dumps(summary, indent=2) + "\n")
    print("scores (petl_score):", "  ".join(f"{k} {v:.4f}" for k, v in summary["scores"].items()))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as e:
        print(f"finetune_torch: {e}", file=sys.stderr)
        sys.exit(2)
