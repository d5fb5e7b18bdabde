"""Reference outputs of transformers' generate() for petl's generation tests.

Part 1 (always): the deterministic toy model of generation_mock.py, run through transformers'
greedy and beam search with many settings; writes tests/fixtures/generate/mock_cases.json.
Part 2: a small GPT-2 and a small BART with random weights drawn wide (std 0.3, so that generations
vary and end rather than repeat one token), saved to tests/fixtures/generate/{gpt2,bart}_model, and
HF generate() on a padded batch with several settings; writes tests/fixtures/generate/{gpt2,bart}_cases.json.

Usage: "$(tools/oracle/setup_venv.sh)" tools/oracle/generation_fixtures.py [--repo ROOT]
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


def left_padded(gen, lengths, length, vocab, pad, low=0):
    ids = torch.randint(low, vocab, (len(lengths), length), generator=gen)
    mask = torch.zeros(len(lengths), length, dtype=torch.int64)
    for b, n in enumerate(lengths):
        mask[b, length - n:] = 1
    return torch.where(mask.bool(), ids, torch.full_like(ids, pad)), mask


def run_model_cases(model, ids, mask, settings):
    """generate() with each setting on one padded batch. A setting may name "eos_rank": r, making EOS
    the token of rank r (0 = best) in row 0's first-step logits, so that EOS competes from the first
    step, or "eos_most_generated", making EOS the token greedy decoding emits most, so rows end."""
    cases = []
    with torch.no_grad():
        if model.config.is_encoder_decoder:
            start = torch.full((ids.shape[0], 1), model.generation_config.decoder_start_token_id)
            first = model(input_ids=ids, attention_mask=mask, decoder_input_ids=start).logits[0, -1]
        else:
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            first = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[0, -1]
        greedy = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=10, do_sample=False)
    ranked = torch.argsort(first, descending=True)
    start = 1 if model.config.is_encoder_decoder else ids.shape[1]
    most_generated = int(torch.mode(greedy[:, start:].flatten()).values)
    for name, args in settings:
        args = dict(args)
        rank = args.pop("eos_rank", None)
        if rank is not None:
            args["eos_token_id"] = int(ranked[rank])
        if args.pop("eos_most_generated", False):
            args["eos_token_id"] = most_generated
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, **args)
        cases.append({"name": name, "generate": args, "sequences": out.tolist()})
        print(f"  {name}: {list(out.shape)}")
    return cases


GPT2_SETTINGS = [
    ("greedy", dict(max_new_tokens=12)),
    ("greedy_eos_min_new_tokens", dict(max_new_tokens=12, min_new_tokens=3, eos_rank=1)),
    ("beam4", dict(max_new_tokens=10, num_beams=4)),
    ("beam3_no_repeat2_lp08_return2", dict(max_new_tokens=10, num_beams=3, no_repeat_ngram_size=2,
                                            length_penalty=0.8, num_return_sequences=2)),
    ("beam4_eos_early_true", dict(max_new_tokens=10, num_beams=4, early_stopping=True, eos_rank=1)),
    ("beam3_eos_never_lp15", dict(max_new_tokens=10, num_beams=3, early_stopping="never", length_penalty=1.5,
                                  eos_rank=2)),
    ("greedy_common_eos", dict(max_new_tokens=10, eos_most_generated=True)),
    ("beam4_common_eos", dict(max_new_tokens=10, num_beams=4, eos_most_generated=True)),
    ("beam4_common_eos_early_true_return2", dict(max_new_tokens=10, num_beams=4, early_stopping=True,
                                                 num_return_sequences=2, eos_most_generated=True)),
    ("beam4_common_eos_never_lp2", dict(max_new_tokens=10, num_beams=4, early_stopping="never", length_penalty=2.0,
                                        eos_most_generated=True)),
    ("beam3_common_eos_lp_negative_min_new", dict(max_new_tokens=10, num_beams=3, length_penalty=-0.5,
                                                  min_new_tokens=4, eos_most_generated=True)),
]

BART_SETTINGS = [
    ("greedy", dict(max_new_tokens=10)),
    ("greedy_eos", dict(max_new_tokens=10, eos_rank=2)),
    ("beam4", dict(max_new_tokens=10, num_beams=4)),
    ("beam4_bart_large_style", dict(max_length=12, num_beams=4, early_stopping=True, no_repeat_ngram_size=3,
                                    forced_bos_token_id=0, length_penalty=2.0)),
    ("beam3_eos_return3", dict(max_new_tokens=10, num_beams=3, num_return_sequences=3, eos_rank=1)),
    ("beam4_common_eos_early_true", dict(max_new_tokens=10, num_beams=4, early_stopping=True,
                                         eos_most_generated=True)),
    ("greedy_common_eos", dict(max_new_tokens=10, eos_most_generated=True)),
]


def generation_gpt2(model_dir):
    """A small GPT-2 with a wide initialization (std 0.3), so that its logits spread and its
    generations vary and end; saved with save_pretrained(safe_serialization=True)."""
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(31)
    config = GPT2Config(vocab_size=96, n_positions=32, n_embd=32, n_layer=2, n_head=4, initializer_range=0.3,
                        bos_token_id=95, eos_token_id=95)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(model_dir, safe_serialization=True)
    return model


def generation_bart(model_dir):
    from transformers import BartConfig, BartForConditionalGeneration
    torch.manual_seed(32)
    config = BartConfig(vocab_size=96, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                        decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48,
                        max_position_embeddings=32, init_std=0.3, scale_embedding=True, forced_eos_token_id=2)
    model = BartForConditionalGeneration(config).eval()
    model.save_pretrained(model_dir, safe_serialization=True)
    return model


def run_gpt2_cases(model):
    gen = torch.Generator().manual_seed(2024)
    ids, mask = left_padded(gen, [5, 7, 3], 7, model.config.vocab_size - 1, pad=model.config.eos_token_id)
    print("gpt2:")
    return {"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
            "cases": run_model_cases(model, ids, mask, GPT2_SETTINGS)}


def run_bart_cases(model):
    gen = torch.Generator().manual_seed(2025)
    lengths, length = [6, 9, 4], 9
    ids = torch.randint(4, model.config.vocab_size, (3, length), generator=gen)
    mask = torch.zeros(3, length, dtype=torch.int64)
    for b, n in enumerate(lengths):  # <s> tokens </s>, right-padded as BART's tokenizer pads
        ids[b, 0], ids[b, n - 1] = model.config.bos_token_id, model.config.eos_token_id
        mask[b, :n] = 1
    ids = torch.where(mask.bool(), ids, torch.full_like(ids, model.config.pad_token_id))
    print("bart:")
    return {"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
            "cases": run_model_cases(model, ids, mask, BART_SETTINGS)}


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
    versions = {"transformers": __import__("transformers").__version__, "torch": torch.__version__}
    for name, make, runner in (("gpt2", generation_gpt2, run_gpt2_cases), ("bart", generation_bart, run_bart_cases)):
        model_dir = out_dir / f"{name}_model"
        model = make(str(model_dir))
        write_json(out_dir / f"{name}_cases.json", {**versions, "model": f"tests/fixtures/generate/{name}_model",
                                                    **runner(model)})


if __name__ == "__main__":
    main()
