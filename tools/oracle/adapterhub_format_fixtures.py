"""AdapterHub's save_adapter directory both ways (petl's peft/adapterhub_format.h), with adapters 1.3.

  "$(tools/oracle/setup_venv.sh adapters)" adapterhub_format_fixtures.py
      writes tests/fixtures/peft/adapterhub_format/<case>/: adapter/ (model.save_adapter(dir, "a",
      with_head=False, use_safetensors=True) of a randomized adapter on the tiny GPT-2 or BART) and
      reference.safetensors holding "logits_head" = the model's logits on its fixture batch, vocabulary
      entries 0..31 only (the fixture stays small; every position and batch row is kept).
      adapters 1.3 cannot write prefix tuning (and so MAM) as safetensors (its tensors are shared by
      every attention): for those this script saves adapters' pytorch_adapter.bin and converts it,
      keeping each tensor once under adapters' own pool key (<root>.prefix_tuning.prefix_tunings.a....;
      the per-attention aliases ...prefix_tuning.pool... are dropped), to adapter.safetensors.

  adapterhub_format_fixtures.py --check-dir DIR --logits FILE
      a directory petl wrote: adapters loads it onto the tiny model named by its model_type and must
      give FILE's "logits" (the full [B, T, V]) within 1e-4.
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(FIXTURES, "peft", "adapterhub_format")
VOCAB_SLICE = 32


def model_and_batch(model_type):
    from transformers import BartForConditionalGeneration, GPT2LMHeadModel
    if model_type == "gpt2":
        ref = load_file(os.path.join(FIXTURES, "gpt2", "reference.safetensors"))
        model = GPT2LMHeadModel.from_pretrained(os.path.join(FIXTURES, "gpt2", "model"), attn_implementation="eager")
        inputs = {"input_ids": ref["input_ids"], "attention_mask": ref["attention_mask"]}
    else:
        ref = load_file(os.path.join(FIXTURES, "bart", "reference.safetensors"))
        model = BartForConditionalGeneration.from_pretrained(os.path.join(FIXTURES, "bart", "model"),
                                                             attn_implementation="eager")
        inputs = {k: ref[k] for k in ("input_ids", "attention_mask", "decoder_input_ids")}
    return model.float().eval(), inputs


def case(name, model_type, config, seed):
    import adapters
    model, inputs = model_and_batch(model_type)
    adapters.init(model)
    model.add_adapter("a", config=config)
    model.set_active_adapters("a")
    model.eval()
    torch.manual_seed(seed)
    with torch.no_grad():  # away from the init (W_up = 0 would hide everything)
        for n, p in model.named_parameters():
            if ".a." in n:
                p.copy_(torch.full_like(p, 1.5) if n.endswith("scaling") else torch.randn_like(p) * 0.2)
        logits = model(**inputs).logits
    out_dir = os.path.join(OUT, name)
    adapter = os.path.join(out_dir, "adapter")
    os.makedirs(adapter, exist_ok=True)
    try:
        model.save_adapter(adapter, "a", with_head=False, use_safetensors=True)
    except RuntimeError:  # shared prefix tensors: save the pickle, convert it without the aliases
        model.save_adapter(adapter, "a", with_head=False, use_safetensors=False)
        pickled = os.path.join(adapter, "pytorch_adapter.bin")
        state = torch.load(pickled, map_location="cpu", weights_only=True)
        save_file({k: v.contiguous() for k, v in state.items() if ".prefix_tuning.pool." not in k},
                  os.path.join(adapter, "adapter.safetensors"))
        os.remove(pickled)
    config_path = os.path.join(adapter, "adapter_config.json")
    with open(config_path) as f:
        saved = json.load(f)
    saved["model_name"] = "tests/fixtures/%s/model" % model_type  # not this machine's path
    with open(config_path, "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    save_file({"logits_head": logits[..., :VOCAB_SLICE].contiguous()}, os.path.join(out_dir, "reference.safetensors"))
    print(out_dir, sorted(os.listdir(adapter)))


def check_dir(adapter_dir, logits_file):
    import adapters
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        model_type = json.load(f)["model_type"]
    model, inputs = model_and_batch(model_type)
    adapters.init(model)
    name = model.load_adapter(adapter_dir, use_safetensors=True)
    model.set_active_adapters(name)
    model.eval()
    with torch.no_grad():
        logits = model(**inputs).logits
    theirs = load_file(logits_file)["logits"]
    if model_type == "gpt2":  # padded positions' logits are defined by neither side's loss
        valid = inputs["attention_mask"].bool()
        logits, theirs = logits[valid], theirs[valid]
    diff = (logits - theirs).abs().max().item()
    print("adapters loaded", adapter_dir, "max |logits_adapters - logits_petl|:", diff)
    sys.exit(0 if diff <= 1e-4 else 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-dir")
    parser.add_argument("--logits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check_dir:
        return check_dir(args.check_dir, args.logits)
    from adapters import DoubleSeqBnConfig, MAMConfig, ParBnConfig, PrefixTuningConfig, SeqBnConfig
    case("gpt2_seq_bn", "gpt2", SeqBnConfig(reduction_factor=12), 11)
    case("gpt2_double_seq_bn", "gpt2", DoubleSeqBnConfig(reduction_factor=12), 12)
    case("gpt2_par_bn", "gpt2", ParBnConfig(reduction_factor=12), 13)
    case("gpt2_scaled_par_bn", "gpt2", ParBnConfig(reduction_factor=12, scaling="learned"), 14)
    case("bart_seq_bn", "bart", SeqBnConfig(reduction_factor=8), 15)
    case("bart_double_seq_bn", "bart", DoubleSeqBnConfig(reduction_factor=8), 16)
    case("bart_par_bn", "bart", ParBnConfig(reduction_factor=8), 17)
    case("bart_seq_bn_cross", "bart", SeqBnConfig(reduction_factor=8, mh_adapter=True, cross_adapter=True), 22)
    case("gpt2_prefix", "gpt2", PrefixTuningConfig(prefix_length=3, bottleneck_size=8), 18)
    case("gpt2_mam", "gpt2", MAMConfig(PrefixTuningConfig(prefix_length=3, bottleneck_size=8),
                                       ParBnConfig(reduction_factor=12)), 19)
    case("bart_prefix", "bart", PrefixTuningConfig(prefix_length=3, bottleneck_size=8), 20)
    case("bart_prefix_flat", "bart", PrefixTuningConfig(prefix_length=3, flat=True), 21)


if __name__ == "__main__":
    main()
