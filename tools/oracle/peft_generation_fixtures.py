"""Reference generations of Hugging Face `peft`'s generate() with prefix-tuning and prompt-tuning adapters.

On the generation fixtures' small GPT-2 and BART (tests/fixtures/generate/{gpt2,bart}_model, written by
generation_fixtures.py) this builds, for each method,
  prefix_flat        PrefixTuningConfig(num_virtual_tokens=3)                          table R ~ N(0, 1)
  prefix_projected   PrefixTuningConfig(num_virtual_tokens=3, prefix_projection=True,
                                        encoder_hidden_size=16)                        E, W1, b1, W2, b2 seeded
  prompt             PromptTuningConfig(num_virtual_tokens=3)                          E ~ N(0, 1)
a peft model with a seeded random adapter, saves the adapter with save_pretrained (the projection is
saved folded, as peft does), and runs PeftModel.generate() on the fixtures' padded batch
(tests/fixtures/generate/{gpt2,bart}_cases.json's input_ids and attention_mask) with greedy and beam
settings. Writes tests/fixtures/peft/generation/<base>_<method>/{adapter/, cases.json}.

Usage: "$(tools/oracle/setup_venv.sh)" tools/oracle/peft_generation_fixtures.py [--repo ROOT]
"""

import argparse
import json
import os
from pathlib import Path

import torch
from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model
from transformers import BartForConditionalGeneration, GPT2LMHeadModel

METHODS = {
    "prefix_flat": lambda task: PrefixTuningConfig(task_type=task, num_virtual_tokens=3),
    "prefix_projected": lambda task: PrefixTuningConfig(task_type=task, num_virtual_tokens=3, prefix_projection=True,
                                                        encoder_hidden_size=16),
    "prompt": lambda task: PromptTuningConfig(task_type=task, num_virtual_tokens=3),
}

SETTINGS = [
    ("greedy", dict(max_new_tokens=8)),
    ("beam3", dict(max_new_tokens=8, num_beams=3)),
    ("beam3_return2", dict(max_new_tokens=6, num_beams=3, num_return_sequences=2, length_penalty=0.8)),
]

BASES = {
    "gpt2": (GPT2LMHeadModel, "CAUSAL_LM"),
    "bart": (BartForConditionalGeneration, "SEQ_2_SEQ_LM"),
}


def write_json(path: Path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run_case(root: Path, base: str, method: str, seed: int):
    cls, task = BASES[base]
    model_dir = root / "tests" / "fixtures" / "generate" / f"{base}_model"
    inputs = json.load(open(root / "tests" / "fixtures" / "generate" / f"{base}_cases.json"))
    ids = torch.tensor(inputs["input_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    torch.manual_seed(seed)
    model = get_peft_model(cls.from_pretrained(str(model_dir)).float().eval(), METHODS[method](task))
    model.eval()
    out_dir = root / "tests" / "fixtures" / "peft" / "generation" / f"{base}_{method}"
    adapter = out_dir / "adapter"
    model.save_pretrained(str(adapter))
    os.remove(adapter / "README.md")
    config = json.load(open(adapter / "adapter_config.json"))
    config["base_model_name_or_path"] = f"tests/fixtures/generate/{base}_model"  # not this machine's path
    with open(adapter / "adapter_config.json", "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    cases = []
    for name, args in SETTINGS:
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, **args)
        cases.append({"name": name, "generate": args, "sequences": out.tolist()})
        print(f"{base} {method} {name}: {list(out.shape)}")
    write_json(out_dir / "cases.json", {
        "peft": __import__("peft").__version__, "transformers": __import__("transformers").__version__,
        "torch": torch.__version__, "model": f"tests/fixtures/generate/{base}_model",
        "input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"], "cases": cases})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = Path(args.repo)
    for b, base in enumerate(BASES):
        for m, method in enumerate(METHODS):
            run_case(root, base, method, seed=100 + 10 * b + m)


if __name__ == "__main__":
    main()
