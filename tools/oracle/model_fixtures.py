"""Reference results for petl's GPT-2 and BART, computed by Hugging Face transformers.

For each model this writes, under OUT/<model>/:
  model/                     config.json + model.safetensors, from save_pretrained(safe_serialization=True)
                             (random weights from a fixed seed)
  reference.safetensors      the fixed padded batch (input_ids, attention_mask, labels, and for BART
                             decoder_input_ids), the logits, and "grad.<name>" for every parameter
  reference.json             the loss, the losses of 10 AdamW steps and the optimizer settings

Everything runs in float32 with dropout off (model.eval()); dropout masks come from torch's RNG and
cannot be reproduced bit for bit elsewhere, so petl checks dropout placement separately.

  python model_fixtures.py                       # tiny models -> tests/fixtures/{gpt2,bart}
  python model_fixtures.py --shape real --out /tmp/petl_real   # GPT-2 124M and BART-large shapes
  python model_fixtures.py --check-dir DIR --logits FILE       # a directory petl wrote: does
                                                 # transformers load it and give petl's logits?
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import BartConfig, BartForConditionalGeneration, GPT2Config, GPT2LMHeadModel

ADAMW = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "steps": 10}


def tiny_gpt2_config():
    return GPT2Config(vocab_size=384, n_positions=64, n_embd=48, n_layer=2, n_head=4,
                      bos_token_id=383, eos_token_id=383)


def real_gpt2_config():
    return GPT2Config()  # gpt2 (124M): the defaults


def tiny_bart_config():
    return BartConfig(vocab_size=384, d_model=32, encoder_layers=2, decoder_layers=2,
                      encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                      decoder_ffn_dim=64, max_position_embeddings=64, dropout=0.1,
                      attention_dropout=0.1, activation_dropout=0.1, scale_embedding=True)


def real_bart_config():
    # facebook/bart-large's shape
    return BartConfig(vocab_size=50265, d_model=1024, encoder_layers=12, decoder_layers=12,
                      encoder_attention_heads=16, decoder_attention_heads=16, encoder_ffn_dim=4096,
                      decoder_ffn_dim=4096, max_position_embeddings=1024, dropout=0.1,
                      attention_dropout=0.0, activation_dropout=0.0, scale_embedding=False)


def right_padded(gen, batch, length, vocab, lengths, pad, low=0):
    """Random ids in [low, vocab) with row b holding lengths[b] tokens, then padding."""
    ids = torch.randint(low, vocab, (batch, length), generator=gen)
    mask = torch.zeros(batch, length, dtype=torch.int64)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
    ids = torch.where(mask.bool(), ids, torch.full_like(ids, pad))
    return ids, mask


def grads_of(model):
    return {"grad." + name: p.grad.detach().clone().contiguous()
            for name, p in model.named_parameters() if p.grad is not None}


def adamw_losses(model, loss_fn):
    opt = torch.optim.AdamW(model.parameters(), lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]),
                            eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    losses = []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad()
        loss = loss_fn()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses


def write_case(out_dir, model, tensors, loss_fn, with_adamw):
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(os.path.join(out_dir, "model"), safe_serialization=True)
    model.eval()
    model.zero_grad()
    loss, logits = loss_fn(with_logits=True)
    loss.backward()
    result = dict(tensors)
    result["logits"] = logits.detach().contiguous()
    result.update(grads_of(model))
    save_file(result, os.path.join(out_dir, "reference.safetensors"))
    model.zero_grad()
    losses = adamw_losses(model, lambda: loss_fn(with_logits=False)) if with_adamw else []
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump({"loss": loss.item(), "adamw": ADAMW, "adamw_losses": losses,
                   "torch": torch.__version__, "transformers": __import__("transformers").__version__},
                  f, indent=1)
    print(out_dir, "loss", loss.item(), "adamw losses", losses)


def gpt2_case(out_dir, config, batch, length, lengths, seed, with_adamw=True):
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config).float()
    gen = torch.Generator().manual_seed(seed + 1)
    ids, mask = right_padded(gen, batch, length, config.vocab_size, lengths, pad=config.eos_token_id)
    labels = torch.where(mask.bool(), ids, torch.full_like(ids, -100))

    def loss_fn(with_logits=False):
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        return (out.loss, out.logits) if with_logits else out.loss

    write_case(out_dir, model, {"input_ids": ids, "attention_mask": mask, "labels": labels}, loss_fn,
               with_adamw)


def bart_case(out_dir, config, batch, src_len, tgt_len, src_lengths, tgt_lengths, seed, with_adamw=True):
    torch.manual_seed(seed)
    model = BartForConditionalGeneration(config).float()
    with torch.no_grad():  # a nonzero final_logits_bias, so the test sees it is loaded and added
        model.final_logits_bias.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(seed + 2))
    gen = torch.Generator().manual_seed(seed + 1)
    pad, bos, eos = config.pad_token_id, config.bos_token_id, config.eos_token_id
    ids, mask = right_padded(gen, batch, src_len, config.vocab_size, src_lengths, pad=pad, low=4)
    for b, n in enumerate(src_lengths):  # <s> ... </s> framing as the tokenizer writes it
        ids[b, 0], ids[b, n - 1] = bos, eos
    target, tmask = right_padded(gen, batch, tgt_len, config.vocab_size, tgt_lengths, pad=pad, low=4)
    for b, n in enumerate(tgt_lengths):
        target[b, 0], target[b, n - 1] = bos, eos
    labels = torch.where(tmask.bool(), target, torch.full_like(target, -100))
    decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=labels)

    def loss_fn(with_logits=False):
        out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids, labels=labels)
        return (out.loss, out.logits) if with_logits else out.loss

    write_case(out_dir, model, {"input_ids": ids, "attention_mask": mask, "labels": labels,
                                "decoder_input_ids": decoder_input_ids}, loss_fn, with_adamw)


def check_dir(model_dir, logits_file):
    """Loads a directory petl wrote and compares transformers' logits with the ones petl computed."""
    config = json.load(open(os.path.join(model_dir, "config.json")))
    cls = GPT2LMHeadModel if config["model_type"] == "gpt2" else BartForConditionalGeneration
    model = cls.from_pretrained(model_dir).float().eval()
    ref = load_file(logits_file)
    with torch.no_grad():
        kwargs = {"input_ids": ref["input_ids"], "attention_mask": ref["attention_mask"]}
        if "decoder_input_ids" in ref:
            kwargs["decoder_input_ids"] = ref["decoder_input_ids"]
        logits = model(**kwargs).logits
    mask = ref["attention_mask"].bool() if "decoder_input_ids" not in ref else torch.ones(logits.shape[:2], dtype=torch.bool)
    diff = (logits - ref["logits"]).abs()[mask].max().item()
    print(f"{model_dir}: transformers loaded it; max |logits - petl| over tokens = {diff:.3g}")
    return diff <= 1e-4


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=["tiny", "real"], default="tiny")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures"))
    ap.add_argument("--only", choices=["gpt2", "bart"])
    ap.add_argument("--check-dir")
    ap.add_argument("--logits")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.check_dir:
        sys.exit(0 if check_dir(args.check_dir, args.logits) else 1)
    if args.shape == "tiny":
        if args.only in (None, "gpt2"):
            gpt2_case(os.path.join(args.out, "gpt2"), tiny_gpt2_config(), 3, 12, [12, 9, 5], seed=1)
        if args.only in (None, "bart"):
            bart_case(os.path.join(args.out, "bart"), tiny_bart_config(), 3, 10, 8, [10, 7, 4], [8, 6, 3], seed=2)
    else:
        if args.only in (None, "gpt2"):
            gpt2_case(os.path.join(args.out, "gpt2"), real_gpt2_config(), 4, 64, [64, 50, 33, 17], seed=3,
                      with_adamw=False)
        if args.only in (None, "bart"):
            bart_case(os.path.join(args.out, "bart"), real_bart_config(), 2, 32, 24, [32, 20], [24, 11], seed=4,
                      with_adamw=False)


if __name__ == "__main__":
    main()
