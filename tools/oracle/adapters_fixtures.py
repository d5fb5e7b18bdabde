"""Reference results for petl's prefix tuning and bottleneck adapters, computed by the reference
libraries on the tiny GPT-2 of tests/fixtures/gpt2 and its padded batch.

  "$(tools/oracle/setup_venv.sh)" adapters_fixtures.py peft        # Hugging Face peft 0.21 (prefix tuning)
  "$(tools/oracle/setup_venv.sh adapters)" adapters_fixtures.py adapters   # AdapterHub adapters 1.3

Each case directory under tests/fixtures/peft/<method>/<case>/ holds
  reference.safetensors   the batch (input_ids, attention_mask, labels), "init.<petl name>" (the method's parameters; Linear weights [out, in] as torch),
                          "logits", "grad.<petl name>", and for peft "folded" (what peft saves after
                          the 10 AdamW steps: prompt_embeddings)
  reference.json          loss, 10 AdamW losses (only the method's parameters train), settings
  peft_adapter/           (peft cases) save_pretrained() after the AdamW steps
Everything runs in float32 with the base model in eval mode (dropout off).
  adapters_fixtures.py peft --check-dir DIR --logits FILE   # a prefix adapter petl wrote: does peft
                                                            # load it and give petl's logits?
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
GPT2_DIR = os.path.join(ROOT, "tests", "fixtures", "gpt2")
BART_DIR = os.path.join(ROOT, "tests", "fixtures", "bart")
OUT = os.path.join(ROOT, "tests", "fixtures", "peft")


def batch():
    ref = load_file(os.path.join(GPT2_DIR, "reference.safetensors"))
    return ref["input_ids"], ref["attention_mask"], ref["labels"]


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
    """petl's Linear layers here keep torch's nn.Linear layout [out, in] (WeightLayout::OutIn)."""
    return t.detach().clone().contiguous()


def write(out_dir, tensors, info):
    os.makedirs(out_dir, exist_ok=True)
    tensors = dict(tensors)
    if "decoder_input_ids" not in tensors:
        tensors["input_ids"], tensors["attention_mask"], tensors["labels"] = batch()
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "reference.safetensors"))
    info = dict(info, adamw=ADAMW, torch=torch.__version__)
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(out_dir, "loss", info["loss"], "adamw losses", info["adamw_losses"])


# ---- peft: prefix tuning (with and without the MLP reparameterization)
def peft_prefix_case(name, projection):
    from peft import PrefixTuningConfig, get_peft_model
    from transformers import GPT2LMHeadModel
    ids, mask, labels = batch()
    base = GPT2LMHeadModel.from_pretrained(os.path.join(GPT2_DIR, "model")).float().eval()
    torch.manual_seed(5)
    config = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=3, prefix_projection=projection,
                                encoder_hidden_size=8)
    model = get_peft_model(base, config)
    model.eval()
    encoder = model.prompt_encoder["default"]
    # peft name -> petl name (petl keeps peft's names; Linear weights in math layout)
    rename = {n: n for n in ("embedding.weight", "transform.0.weight", "transform.0.bias", "transform.2.weight",
                             "transform.2.bias")}
    params = dict(encoder.named_parameters())
    tensors = {"init." + rename[n]: value(p) for n, p in params.items()}

    def loss_fn(with_logits=False):
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        return (out.loss, out.logits) if with_logits else out.loss

    loss, logits = loss_fn(True)
    loss.backward()
    tensors["logits"] = logits.detach()
    tensors.update({"grad." + rename[n]: value(p.grad) for n, p in params.items()})
    model.zero_grad()
    losses = adamw_losses([p for p in model.parameters() if p.requires_grad], loss_fn)
    out_dir = os.path.join(OUT, "prefix_tuning", name)
    model.save_pretrained(os.path.join(out_dir, "peft_adapter"))
    os.remove(os.path.join(out_dir, "peft_adapter", "README.md"))
    saved = load_file(os.path.join(out_dir, "peft_adapter", "adapter_model.safetensors"))
    tensors["folded"] = saved["prompt_embeddings"]
    with torch.no_grad():
        tensors["logits_after"] = model(input_ids=ids, attention_mask=mask).logits
    write(out_dir, tensors, {"loss": loss.item(), "adamw_losses": losses, "num_virtual_tokens": 3,
                             "prefix_projection": projection, "encoder_hidden_size": 8,
                             "peft": __import__("peft").__version__})


# ---- peft: prompt tuning
def peft_prompt_case():
    from peft import PromptTuningConfig, get_peft_model
    from transformers import GPT2LMHeadModel
    ids, mask, labels = batch()
    base = GPT2LMHeadModel.from_pretrained(os.path.join(GPT2_DIR, "model")).float().eval()
    torch.manual_seed(7)
    model = get_peft_model(base, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=3))
    model.eval()
    weight = model.prompt_encoder["default"].embedding.weight
    tensors = {"init.embedding.weight": value(weight)}

    def loss_fn(with_logits=False):
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        return (out.loss, out.logits) if with_logits else out.loss

    loss, logits = loss_fn(True)  # logits [B, P + T, V]: the prompt rows come first
    loss.backward()
    tensors["logits"] = logits.detach()
    tensors["grad.embedding.weight"] = value(weight.grad)
    model.zero_grad()
    losses = adamw_losses([p for p in model.parameters() if p.requires_grad], loss_fn)
    out_dir = os.path.join(OUT, "prompt_tuning", "peft")
    model.save_pretrained(os.path.join(out_dir, "peft_adapter"))
    os.remove(os.path.join(out_dir, "peft_adapter", "README.md"))
    tensors["trained"] = load_file(os.path.join(out_dir, "peft_adapter", "adapter_model.safetensors"))["prompt_embeddings"]
    write(out_dir, tensors, {"loss": loss.item(), "adamw_losses": losses, "num_virtual_tokens": 3,
                             "peft": __import__("peft").__version__})


def peft_check_dir(adapter_dir, logits_file):
    from peft import PeftModel
    from transformers import GPT2LMHeadModel
    ids, mask, _ = batch()
    base = GPT2LMHeadModel.from_pretrained(os.path.join(GPT2_DIR, "model")).float().eval()
    model = PeftModel.from_pretrained(base, adapter_dir).eval()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    theirs = load_file(logits_file)["logits"]
    valid = mask.bool()
    if logits.shape[1] > mask.shape[1]:  # prompt tuning: compare the text positions
        logits = logits[:, logits.shape[1] - mask.shape[1]:]
        theirs = theirs[:, theirs.shape[1] - mask.shape[1]:]
    diff = (logits - theirs).abs()[valid].max().item()
    print("max |logits_peft - logits_petl| over real tokens:", diff)
    sys.exit(0 if diff <= 1e-4 else 1)


# ---- AdapterHub: sequential and parallel bottleneck adapters
def adapters_case(method, name, config, union=False, bart=False):
    import adapters
    from transformers import BartForConditionalGeneration, GPT2LMHeadModel
    ids, mask, labels = batch()
    if bart:
        ref = load_file(os.path.join(BART_DIR, "reference.safetensors"))
        ids, mask, labels, decoder_ids = (ref[k] for k in ("input_ids", "attention_mask", "labels", "decoder_input_ids"))
    # AdapterHub 1.3 marks its prefix rows with ~ones under a boolean (sdpa) mask, i.e. hides them
    # entirely (zero gradient); with eager attention the mask is additive and the prefix is visible
    attn = "eager" if union or "prefix" in method else "sdpa"
    if bart:
        model = BartForConditionalGeneration.from_pretrained(os.path.join(BART_DIR, "model"), attn_implementation=attn).float()
    else:
        model = GPT2LMHeadModel.from_pretrained(os.path.join(GPT2_DIR, "model"), attn_implementation=attn).float()
    adapters.init(model)
    model.add_adapter("a", config=config)
    model.train_adapter("a")
    model.eval()
    torch.manual_seed(6)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    with torch.no_grad():  # away from the init, so every product and gradient is exercised
        for n, p in trainable.items():
            if n.endswith("scaling"):
                p.fill_(1.5)  # a learned s (init 1) somewhere else
            else:
                p.normal_(0.0, 0.2)

    def petl_name(n):
        if "prefix_tunings" in n:
            # transformer.prefix_tuning.prefix_tunings.a.self_prefix.control_trans.0.weight
            # -> [prefix.]transform.0.weight (petl keeps peft's names for the same network)
            rest = n.split(".self_prefix.")[1].replace("wte.", "embedding.").replace("control_trans.", "transform.")
            return ("prefix." if union else "") + rest
        return ("adapters." if union else "") + adapter_name(n)

    def adapter_name(n):
        # transformer.h.0.attention_adapters.adapters.a.adapter_down.0.weight
        # -> transformer.h.0.attn_adapter.down.weight (BART: model.encoder.layers.0.self_attn_adapter...)
        parts = n.split(".")
        at = next(i for i, part in enumerate(parts) if part.endswith("_adapters"))
        layer = ".".join(parts[:at])
        where = ({"attention_adapters": "self_attn_adapter", "output_adapters": "ffn_adapter"} if bart else
                 {"attention_adapters": "attn_adapter", "output_adapters": "mlp_adapter"})[parts[at]]
        rest = ".".join(parts[at + 3:])
        rest = {"adapter_down.0.weight": "down.weight", "adapter_down.0.bias": "down.bias",
                "adapter_up.weight": "up.weight", "adapter_up.bias": "up.bias", "scaling": "scaling"}[rest]
        return layer + "." + where + "." + rest

    tensors = {"init." + petl_name(n): value(p) for n, p in trainable.items()}

    def loss_fn(with_logits=False):
        extra = {"decoder_input_ids": decoder_ids} if bart else {}
        out = model(input_ids=ids, attention_mask=mask, labels=labels, **extra)
        return (out.loss, out.logits) if with_logits else out.loss

    loss, logits = loss_fn(True)
    loss.backward()
    tensors["logits"] = logits.detach()
    tensors.update({"grad." + petl_name(n): value(p.grad) for n, p in trainable.items()})
    model.zero_grad()
    losses = adamw_losses(list(trainable.values()), loss_fn)
    if bart:
        tensors.update({"input_ids": ids, "attention_mask": mask, "labels": labels, "decoder_input_ids": decoder_ids})
    write(os.path.join(OUT, method, name), tensors,
          {"loss": loss.item(), "adamw_losses": losses, "config": config.to_dict(),
           "adapters": adapters.__version__})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("library", choices=["peft", "adapters"])
    parser.add_argument("--check-dir")
    parser.add_argument("--logits")
    parser.add_argument("--only", help="comma-separated case names (e.g. par_bn_bart; \"adapterhub\" is the prefix and the MAM case): write only these")
    args = parser.parse_args()
    torch.set_num_threads(1)
    wanted = set(args.only.split(",")) if args.only else None

    def selected(name):
        return wanted is None or name in wanted

    if args.library == "peft":
        if args.check_dir:
            return peft_check_dir(args.check_dir, args.logits)
        if selected("flat"):
            peft_prefix_case("flat", projection=False)
        if selected("projected"):
            peft_prefix_case("projected", projection=True)
        if selected("prompt"):
            peft_prompt_case()
    else:
        from adapters import DoubleSeqBnConfig, MAMConfig, ParBnConfig, PrefixTuningConfig, SeqBnConfig
        if selected("pfeiffer"):
            adapters_case("bottleneck_adapter", "pfeiffer", SeqBnConfig(reduction_factor=12))
        if selected("houlsby"):
            adapters_case("bottleneck_adapter", "houlsby", DoubleSeqBnConfig(reduction_factor=12))
        # BART (post-LN): AdapterHub passes the frozen LN, y = LN(r + (h + g(h))); no cross-attention adapter
        if selected("houlsby_bart"):
            adapters_case("bottleneck_adapter", "houlsby_bart", DoubleSeqBnConfig(reduction_factor=8), bart=True)
        if selected("par_bn"):
            adapters_case("parallel_adapter", "par_bn", ParBnConfig(reduction_factor=12))
        if selected("scaled_par_bn"):
            adapters_case("parallel_adapter", "scaled_par_bn", ParBnConfig(reduction_factor=12, scaling="learned"))
        # BART (post-LN): the parallel adapter reads the FFN's input (the residual it is added to) and its
        # output joins the FFN's before LN(r + h); encoder and decoder FFNs. d = 32, reduction_factor 8: r = 4
        if selected("par_bn_bart"):
            adapters_case("parallel_adapter", "par_bn_bart", ParBnConfig(reduction_factor=8), bart=True)
        if selected("scaled_par_bn_bart"):
            adapters_case("parallel_adapter", "scaled_par_bn_bart", ParBnConfig(reduction_factor=8, scaling="learned"),
                          bart=True)
        # AdapterHub's prefix: injected inside attention, so GPT-2's positions are not shifted
        if selected("adapterhub"):
            adapters_case("prefix_tuning", "adapterhub", PrefixTuningConfig(prefix_length=3, bottleneck_size=8))
        if selected("adapterhub"):
            adapters_case("mam", "adapterhub", MAMConfig(PrefixTuningConfig(prefix_length=3, bottleneck_size=8),
                                                         ParBnConfig(reduction_factor=12)), union=True)


if __name__ == "__main__":
    main()
