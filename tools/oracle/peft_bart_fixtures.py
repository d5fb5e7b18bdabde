"""Reference results for petl's prefix tuning, prompt tuning and Pfeiffer adapter on the tiny BART of
tests/fixtures/bart (its batch: input_ids, attention_mask, decoder_input_ids, labels), computed by the
reference libraries.

  "$(tools/oracle/setup_venv.sh)" peft_bart_fixtures.py peft                # Hugging Face peft 0.21
  "$(tools/oracle/setup_venv.sh adapters)" peft_bart_fixtures.py adapters   # AdapterHub adapters 1.3

Case directories (tests/fixtures/peft/<method>_bart/<case>/) hold reference.safetensors (the batch,
"init.<petl name>", "logits", "grad.<petl name>", peft: "folded"/"trained" = what save_pretrained wrote
after the AdamW steps) and reference.json (loss, 10 AdamW losses, settings); peft cases also keep the
saved peft_adapter/, adapters cases the save_adapter() directory adapterhub_adapter/ (safetensors where
adapters 1.3 can write it; its prefix tuning cannot, see --check-dir).
Everything runs in float32 with the base model in eval mode (dropout off).

  peft_bart_fixtures.py peft|adapters --check-dir DIR --logits FILE
      a directory petl wrote: does the library load it onto the tiny BART and give petl's logits?
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

ADAMW = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "steps": 10}
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BART_DIR = os.path.join(ROOT, "tests", "fixtures", "bart")
OUT = os.path.join(ROOT, "tests", "fixtures", "peft")
# how the fixtures name the base model (a repository path, not one of this machine)
BASE_NAME = "tests/fixtures/bart/model"


def batch():
    ref = load_file(os.path.join(BART_DIR, "reference.safetensors"))
    return {k: ref[k] for k in ("input_ids", "attention_mask", "decoder_input_ids", "labels")}


def base_model(attn="sdpa"):
    from transformers import BartForConditionalGeneration
    return BartForConditionalGeneration.from_pretrained(os.path.join(BART_DIR, "model"),
                                                        attn_implementation=attn).float().eval()


def adamw_losses(params, loss_fn):
    opt = torch.optim.AdamW(params, lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"],
                            weight_decay=ADAMW["weight_decay"])
    losses = []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad()
        loss = loss_fn()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses


def value(t):
    return t.detach().clone().contiguous()


def write(out_dir, tensors, info):
    os.makedirs(out_dir, exist_ok=True)
    tensors = dict(tensors, **batch())
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "reference.safetensors"))
    info = dict(info, adamw=ADAMW, torch=torch.__version__)
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(out_dir, "loss", info["loss"], "adamw losses", info["adamw_losses"])


def run_case(model, params, rename, out_dir, info, save):
    """Logits, loss and gradients at the init, then 10 AdamW steps on `params`, then save(dir)."""
    b = batch()
    tensors = {"init." + rename(n): value(p) for n, p in params.items()}

    def loss_fn(with_logits=False):
        out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                    decoder_input_ids=b["decoder_input_ids"], labels=b["labels"])
        return (out.loss, out.logits) if with_logits else out.loss

    loss, logits = loss_fn(True)
    loss.backward()
    tensors["logits"] = logits.detach()
    tensors.update({"grad." + rename(n): value(p.grad) for n, p in params.items()})
    model.zero_grad()
    losses = adamw_losses(list(params.values()), loss_fn)
    with torch.no_grad():
        tensors["logits_after"] = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                                        decoder_input_ids=b["decoder_input_ids"]).logits
    tensors.update(save(out_dir))
    write(out_dir, tensors, dict(info, loss=loss.item(), adamw_losses=losses))


# ---- peft: prefix tuning and prompt tuning on BartForConditionalGeneration (SEQ_2_SEQ_LM)
def peft_save(model):
    def save(out_dir):
        adapter = os.path.join(out_dir, "peft_adapter")
        model.save_pretrained(adapter)
        os.remove(os.path.join(adapter, "README.md"))
        with open(os.path.join(adapter, "adapter_config.json")) as f:
            config = json.load(f)
        config["base_model_name_or_path"] = BASE_NAME
        with open(os.path.join(adapter, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        return {"saved": load_file(os.path.join(adapter, "adapter_model.safetensors"))["prompt_embeddings"]}
    return save


def peft_prefix_case(name, projection):
    from peft import PrefixTuningConfig, get_peft_model
    torch.manual_seed(5)
    config = PrefixTuningConfig(task_type="SEQ_2_SEQ_LM", num_virtual_tokens=3, prefix_projection=projection,
                                encoder_hidden_size=8)
    model = get_peft_model(base_model(), config)
    model.eval()
    params = dict(model.prompt_encoder["default"].named_parameters())
    run_case(model, params, lambda n: n, os.path.join(OUT, "prefix_tuning_bart", name),
             {"num_virtual_tokens": 3, "prefix_projection": projection, "encoder_hidden_size": 8,
              "peft": __import__("peft").__version__}, peft_save(model))


def peft_prompt_case():
    from peft import PromptTuningConfig, get_peft_model
    torch.manual_seed(7)
    model = get_peft_model(base_model(), PromptTuningConfig(task_type="SEQ_2_SEQ_LM", num_virtual_tokens=3))
    model.eval()
    params = dict(model.prompt_encoder["default"].named_parameters())
    # the table has 2P rows (num_transformer_submodules = 2); prompt tuning reads the first P only
    run_case(model, params, lambda n: n, os.path.join(OUT, "prompt_tuning_bart", "peft"),
             {"num_virtual_tokens": 3, "peft": __import__("peft").__version__}, peft_save(model))


def peft_check_dir(adapter_dir, logits_file):
    from peft import PeftModel
    b = batch()
    model = PeftModel.from_pretrained(base_model(), adapter_dir).eval()
    with torch.no_grad():
        logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                       decoder_input_ids=b["decoder_input_ids"]).logits
    compare(logits, load_file(logits_file)["logits"])


def compare(logits, theirs):
    diff = (logits - theirs).abs().max().item()
    print("max |logits_library - logits_petl|:", diff)
    sys.exit(0 if diff <= 1e-4 else 1)


# ---- AdapterHub: prefix tuning (encoder, self and cross prefixes) and SeqBn ("Pfeiffer")
def adapters_case(method, name, config, petl_name):
    import adapters
    # AdapterHub 1.3 hides its prefix rows under a boolean (sdpa) mask; eager attention shows them
    model = base_model("eager")
    adapters.init(model)
    model.add_adapter("a", config=config)
    model.train_adapter("a")
    model.eval()
    torch.manual_seed(6)
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    with torch.no_grad():  # away from the init, so every product and gradient is exercised
        for p in params.values():
            p.normal_(0.0, 0.2)

    def save(out_dir):
        adapter = os.path.join(out_dir, "adapterhub_adapter")
        if config.architecture == "prefix_tuning":
            return {}  # adapters 1.3 cannot write its (shared) prefix tensors as safetensors: no fixture
        os.makedirs(adapter, exist_ok=True)
        model.save_adapter(adapter, "a", with_head=False, use_safetensors=True)
        config_path = os.path.join(adapter, "adapter_config.json")
        with open(config_path) as f:
            saved = json.load(f)
        saved["model_name"] = BASE_NAME  # not this machine's path
        with open(config_path, "w") as f:
            json.dump(saved, f, indent=2, sort_keys=True)
        return {}

    run_case(model, params, petl_name, os.path.join(OUT, method, name),
             {"config": config.to_dict(), "adapters": adapters.__version__}, save)


def prefix_name(n):
    # model.encoder.layers.0.self_attn.prefix_tuning.pool.prefix_tunings.a.encoder_prefix.control_trans.0.weight
    # -> encoder_prefix.transform.0.weight (petl keeps peft's names for the network)
    rest = n.split(".prefix_tunings.a.")[1]
    return rest.replace(".wte.", ".embedding.").replace(".control_trans.", ".transform.")


def seq_bn_name(n):
    # model.encoder.layers.0.output_adapters.adapters.a.adapter_down.0.weight
    # -> model.encoder.layers.0.ffn_adapter.down.weight
    layer, rest = n.split(".output_adapters.adapters.a.")
    rest = {"adapter_down.0.weight": "down.weight", "adapter_down.0.bias": "down.bias",
            "adapter_up.weight": "up.weight", "adapter_up.bias": "up.bias"}[rest]
    return layer + ".ffn_adapter." + rest


def adapters_check_dir(adapter_dir, logits_file):
    import adapters
    b = batch()
    model = base_model("eager")
    adapters.init(model)
    name = model.load_adapter(adapter_dir, use_safetensors=True)
    model.set_active_adapters(name)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                       decoder_input_ids=b["decoder_input_ids"]).logits
    compare(logits, load_file(logits_file)["logits"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("library", choices=["peft", "adapters"])
    parser.add_argument("--check-dir")
    parser.add_argument("--logits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check_dir:
        return (peft_check_dir if args.library == "peft" else adapters_check_dir)(args.check_dir, args.logits)
    if args.library == "peft":
        peft_prefix_case("peft_flat", projection=False)
        peft_prefix_case("peft_projected", projection=True)
        peft_prompt_case()
    else:
        from adapters import PrefixTuningConfig, SeqBnConfig
        adapters_case("prefix_tuning_bart", "adapterhub", PrefixTuningConfig(prefix_length=3, bottleneck_size=8),
                      prefix_name)
        adapters_case("bottleneck_adapter", "pfeiffer_bart", SeqBnConfig(reduction_factor=8), seq_bn_name)


if __name__ == "__main__":
    main()
