"""Reference outputs of transformers' generate() for petl's generation tests.

Part 1 (always): the deterministic toy model of generation_mock.py, run through transformers'
greedy and beam search with many settings; writes tests/fixtures/generate/mock_cases.json.
Part 2 (when the tiny model fixtures exist): HF generate() on the tiny GPT-2 and BART checkpoints in
tests/fixtures/gpt2 and tests/fixtures/bart, for a padded batch; writes
tests/fixtures/generate/{gpt2,bart}_cases.json.

Usage: /work/oracle-venv/bin/python tools/oracle/generation_fixtures.py [--repo ROOT]
"""

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generation_mock import MockConfig, MockLM  # noqa: E402

# Padded batches of prompts (0 in the mask marks left padding; the padded ids are the pad id).
PADDED = {
    "input_ids": [[0, 0, 5, 6, 7], [4, 5, 6, 7, 8], [0, 0, 0, 9, 2]],
    "attention_mask": [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]],
}
SINGLE_TOKEN = {"input_ids": [[1], [1]], "attention_mask": [[1], [1]]}

# name, mock model (vocab, eos bonus, special ids), inputs, generate() arguments
MOCK_CASES = [
    ("greedy", dict(vocab_size=16, eos_bonus=1.5, eos_token_id=3, pad_token_id=0), PADDED,
     dict(max_new_tokens=10)),
    ("greedy_min_new_tokens_no_repeat", dict(vocab_size=16, eos_bonus=3.0, eos_token_id=3, pad_token_id=0), PADDED,
     dict(max_new_tokens=12, min_new_tokens=4, no_repeat_ngram_size=2)),
    ("greedy_default_max_length", dict(vocab_size=16, eos_bonus=-4.0, eos_token_id=3, pad_token_id=0), PADDED,
     dict()),
    ("greedy_no_eos", dict(vocab_size=16, eos_bonus=0.0, eos_token_id=None, pad_token_id=None), PADDED,
     dict(max_new_tokens=6)),
    ("greedy_forced_bos_eos", dict(vocab_size=16, eos_bonus=0.0, eos_token_id=3, pad_token_id=0), SINGLE_TOKEN,
     dict(max_new_tokens=6, forced_bos_token_id=7, forced_eos_token_id=3)),
    ("beam3", dict(vocab_size=16, eos_bonus=1.5, eos_token_id=3, pad_token_id=0), PADDED,
     dict(max_new_tokens=8, num_beams=3)),
    ("beam4_early_true_lp05_return2", dict(vocab_size=16, eos_bonus=2.0, eos_token_id=3, pad_token_id=1), PADDED,
     dict(max_new_tokens=10, num_beams=4, early_stopping=True, length_penalty=0.5, num_return_sequences=2)),
    ("beam4_never_lp2_return4", dict(vocab_size=16, eos_bonus=2.0, eos_token_id=3, pad_token_id=1), PADDED,
     dict(max_new_tokens=10, num_beams=4, early_stopping="never", length_penalty=2.0, num_return_sequences=4)),
    ("beam3_lp_negative_no_repeat_min_length", dict(vocab_size=16, eos_bonus=2.5, eos_token_id=3, pad_token_id=0),
     PADDED, dict(max_new_tokens=9, num_beams=3, length_penalty=-1.0, no_repeat_ngram_size=2, min_length=9)),
    ("beam2_forced_bos_eos", dict(vocab_size=16, eos_bonus=0.0, eos_token_id=3, pad_token_id=0), SINGLE_TOKEN,
     dict(max_new_tokens=6, num_beams=2, forced_bos_token_id=7, forced_eos_token_id=3)),
    ("beam3_two_eos", dict(vocab_size=16, eos_bonus=1.0, eos_token_id=3, pad_token_id=0), PADDED,
     dict(max_new_tokens=8, num_beams=3, eos_token_id=[3, 5])),
    ("beam3_no_eos", dict(vocab_size=16, eos_bonus=0.0, eos_token_id=None, pad_token_id=None), PADDED,
     dict(max_new_tokens=5, num_beams=3)),
    ("beam3_max_length", dict(vocab_size=16, eos_bonus=1.0, eos_token_id=3, pad_token_id=2), PADDED,
     dict(max_length=12, num_beams=3)),
    ("beam5_vocab64_early_false", dict(vocab_size=64, eos_bonus=3.5, eos_token_id=10, pad_token_id=0),
     {"input_ids": [[0, 0, 5, 6, 7, 50], [4, 5, 6, 7, 8, 9], [0, 0, 0, 9, 2, 63], [0, 33, 44, 55, 1, 2]],
      "attention_mask": [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1], [0, 1, 1, 1, 1, 1]]},
     dict(max_new_tokens=12, num_beams=5, num_return_sequences=3)),
]


def run_mock_cases():
    cases = []
    for name, model_args, inputs, gen_args in MOCK_CASES:
        config = MockConfig(**model_args)
        model = MockLM(config).eval()
        ids = torch.tensor(inputs["input_ids"])
        mask = torch.tensor(inputs["attention_mask"])
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, use_cache=False, **gen_args)
        cases.append({
            "name": name,
            "model": model_args,
            "input_ids": inputs["input_ids"],
            "attention_mask": inputs["attention_mask"],
            "generate": gen_args,
            "sequences": out.tolist(),
        })
        print(f"mock {name}: {list(out.shape)}")
    return cases


def run_processor_cases():
    """transformers' warpers and processors applied to fixed score rows (float32)."""
    from transformers.generation.logits_process import (
        NoRepeatNGramLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)
    g = torch.Generator().manual_seed(1234)
    scores = torch.randn(3, 12, generator=g).to(torch.float32)
    scores[1, 4] = scores[1, 7]  # a tie, for top-k's "ties with the k-th are kept"
    sequences = torch.tensor([[1, 2, 3, 1, 2], [4, 4, 4, 4, 4], [5, 6, 5, 6, 5]])
    cases = []

    def add(name, processor, args):
        out = processor(sequences, scores.clone())
        # JSON has no infinity: a banned score (-inf) is written as null.
        expected = [[None if v == float("-inf") else v for v in row] for row in out.tolist()]
        cases.append({"name": name, "args": args, "sequences": sequences.tolist(),
                      "scores": scores.tolist(), "expected": expected})

    add("temperature", TemperatureLogitsWarper(0.7), {"temperature": 0.7})
    for k in (1, 3, 5, 12):
        add(f"top_k_{k}", TopKLogitsWarper(k), {"top_k": k})
    for p in (0.0, 0.3, 0.8, 0.95):
        add(f"top_p_{p}", TopPLogitsWarper(p), {"top_p": p})
    for n in (1, 2, 3):
        add(f"no_repeat_{n}", NoRepeatNGramLogitsProcessor(n), {"no_repeat_ngram_size": n})
    return cases


def write_json(path: Path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    args = parser.parse_args()
    root = Path(args.repo)
    out_dir = root / "tests" / "fixtures" / "generate"
    write_json(out_dir / "mock_cases.json", {
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "cases": run_mock_cases(),
        "processors": run_processor_cases(),
    })


if __name__ == "__main__":
    main()
