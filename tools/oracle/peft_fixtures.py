"""Reference results for petl's LoRA and (IA)^3, computed by Hugging Face `peft` on the tiny GPT-2
and BART fixtures.

For each case (lora, ia3 on GPT-2; lora_bart, ia3_bart on BART) this writes, under OUT/<case>/:
  adapter/                   adapter_config.json + adapter_model.safetensors from peft's save_pretrained
                             (the adapter's tensors set to seeded random values, so it is not the identity)
  reference.safetensors      logits of the adapted model on the GPT-2 fixture batch, logits after
                             merge_and_unload, and "grad.<peft key>" for every adapter tensor
  reference.json             the loss and the losses of 10 AdamW steps over the adapter's tensors

The base model and the batch are tests/fixtures/{gpt2,bart}/{model, reference.safetensors}
(tools/oracle/model_fixtures.py). Float32, dropout off (eval mode).

  python peft_fixtures.py                                   # -> tests/fixtures/peft/<case>
  python peft_fixtures.py --check-dir DIR --logits FILE     # an adapter directory petl wrote: does
                                                            # peft load it and give petl's logits?
"""

import argparse
import json
import os
import sys

import torch
from peft import IA3Config, LoraConfig, PeftModel, get_peft_model
from peft.utils import get_peft_model_state_dict
from safetensors.torch import load_file, save_file
from transformers import BartForConditionalGeneration, GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "tests", "fixtures")
ADAMW = {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "steps": 10}


def base_model(base):
    cls = GPT2LMHeadModel if base == "gpt2" else BartForConditionalGeneration
    return cls.from_pretrained(os.path.join(FIXTURES, base, "model")).float().eval()


def batch(base):
    ref = load_file(os.path.join(FIXTURES, base, "reference.safetensors"))
    keys = ("input_ids", "attention_mask", "labels") + (("decoder_input_ids",) if base == "bart" else ())
    return {k: ref[k] for k in keys}


def without_labels(inputs):
    return {k: v for k, v in inputs.items() if k != "labels"}


def randomize_adapter(model, seed, kind):
    """Seeded values for every adapter tensor: LoRA B ~ N(0, 0.1^2) (A keeps peft's kaiming init),
    (IA)^3 l ~ 1 + N(0, 0.2^2)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            if kind == "lora" and "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            elif kind == "ia3":
                p.copy_(1.0 + torch.randn(p.shape, generator=gen) * 0.2)


def saved_key(name):
    """peft's save format: the parameter name with the adapter name (".default") removed."""
    return name.replace(".default", "")


def write_case(out_dir, kind, base, config, seed):
    torch.manual_seed(seed)
    model = get_peft_model(base_model(base), config)
    model.eval()
    randomize_adapter(model, seed, kind)
    adapter_dir = os.path.join(out_dir, "adapter")
    model.save_pretrained(adapter_dir)
    # keep the committed fixture small and machine-independent: no model card, a relative base path
    os.remove(os.path.join(adapter_dir, "README.md"))
    config_path = os.path.join(adapter_dir, "adapter_config.json")
    config_json = json.load(open(config_path))
    config_json["base_model_name_or_path"] = f"tests/fixtures/{base}/model"
    with open(config_path, "w") as f:
        json.dump(config_json, f, indent=2, sort_keys=True)
    inputs = batch(base)
    out = model(**inputs)
    out.loss.backward()
    tensors = {"logits": out.logits.detach().contiguous()}
    for name, p in model.named_parameters():
        if p.requires_grad:
            tensors["grad." + saved_key(name)] = p.grad.detach().contiguous()
    loss = out.loss.item()
    model.zero_grad()

    # merged: a fresh copy loaded from the saved directory, merged into the base weights
    merged = PeftModel.from_pretrained(base_model(base), adapter_dir).merge_and_unload()
    with torch.no_grad():
        tensors["merged_logits"] = merged(**without_labels(inputs)).logits.contiguous()

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"],
                            weight_decay=ADAMW["weight_decay"])
    losses = []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad()
        step_loss = model(**inputs).loss
        losses.append(step_loss.item())
        step_loss.backward()
        opt.step()
    os.makedirs(out_dir, exist_ok=True)
    save_file(tensors, os.path.join(out_dir, "reference.safetensors"))
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump({"loss": loss, "adamw": ADAMW, "adamw_losses": losses}, f, indent=1)
    print(f"{out_dir}: loss {loss:.6f}, adamw losses {losses[0]:.4f} .. {losses[-1]:.4f}")


def check_dir(adapter_dir, logits_file):
    """Loads an adapter directory petl wrote into peft and compares peft's logits with petl's."""
    config = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    base = "bart" if config["base_model_name_or_path"].endswith("bart/model") else "gpt2"
    model = PeftModel.from_pretrained(base_model(base), adapter_dir).eval()
    saved = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    expected = {saved_key(k) for k, _ in get_peft_model_state_dict(model).items()}
    if set(saved) != expected:
        print(f"{adapter_dir}: keys differ from peft's: {sorted(set(saved) ^ expected)}")
        return False
    ref = load_file(logits_file)
    with torch.no_grad():
        logits = model(**without_labels({k: v for k, v in ref.items() if k != "logits"})).logits
    mask = ref["attention_mask"].bool() if base == "gpt2" else torch.ones(logits.shape[:2], dtype=torch.bool)
    diff = (logits - ref["logits"]).abs()[mask].max().item()
    print(f"{adapter_dir}: peft loaded it ({len(saved)} tensors); max |logits - petl| over tokens = {diff:.3g}")
    return diff <= 1e-4


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(FIXTURES, "peft"))
    ap.add_argument("--check-dir")
    ap.add_argument("--logits")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.check_dir:
        sys.exit(0 if check_dir(args.check_dir, args.logits) else 1)
    # peft's defaults for gpt2: LoRA on the fused c_attn (fan_in_fan_out for Conv1D);
    # (IA)^3 on c_attn (output scaling) and mlp.c_proj (input scaling, a feedforward module)
    write_case(os.path.join(args.out, "lora"), "lora", "gpt2",
               LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["c_attn"], fan_in_fan_out=True,
                          task_type="CAUSAL_LM"), seed=5)
    write_case(os.path.join(args.out, "ia3"), "ia3", "gpt2",
               IA3Config(target_modules=["c_attn", "mlp.c_proj"], feedforward_modules=["mlp.c_proj"],
                         fan_in_fan_out=True, task_type="CAUSAL_LM"), seed=6)
    # peft's defaults for bart: LoRA on q_proj, v_proj of every attention (encoder self, decoder self
    # and cross); (IA)^3 on q_proj, v_proj (output) and fc2 (input scaling = the post-GELU hidden state)
    write_case(os.path.join(args.out, "lora_bart"), "lora", "bart",
               LoraConfig(r=4, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                          task_type="SEQ_2_SEQ_LM"), seed=7)
    write_case(os.path.join(args.out, "ia3_bart"), "ia3", "bart",
               IA3Config(target_modules=["q_proj", "v_proj", "fc2"], feedforward_modules=["fc2"],
                         task_type="SEQ_2_SEQ_LM"), seed=8)


if __name__ == "__main__":
    main()
