"""Does transformers load a BART that `train pretrain --arch bart` wrote, unchanged, and compute petl's logits?

  python tools/oracle/bart_pretrain_check.py --build build            # pretrains a tiny BART first
  python tools/oracle/bart_pretrain_check.py --build build --model RUN/model   # an existing one
  python tools/oracle/bart_pretrain_check.py --build build --write-fixture tests/fixtures/bart_pretrain/hf_token_ids.json
      # also writes transformers' ids of a few texts under the tiny run's tokenizer, which
      # tests/test_train_bart_pretrain.cpp compares with petl's tokenizer on the same directory

Checks, each printed with its numbers:
  1. BartForConditionalGeneration.from_pretrained(DIR) reports no missing, unexpected or mismatched
     keys, and AutoTokenizer.from_pretrained(DIR) loads the tokenizer files;
  2. the tokenizer's special ids are bart-large's layout (<s> 0, <pad> 1, </s> 2, <unk> 3, <mask>
     the last id) and agree with config.json (bos, pad, eos, decoder_start = eos);
  3. "Hello <mask> world" keeps the space before <mask> out of the text (<mask> lstrip, as BartTokenizer);
  4. on a padded batch that transformers' tokenizer made (sources with <mask>, labels the full
     texts, decoder inputs = shift_tokens_right(labels)), transformers' logits and petl_logits'
     agree within 1e-4 over the real tokens, and so do the losses.
Exit status 0 when all hold.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, BartForConditionalGeneration
from transformers.models.bart.modeling_bart import shift_tokens_right

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCES = ["It was a <mask> night, and the rain fell in torrents.",
           "Call me <mask>. Some years ago <mask> little or no money in my purse.",
           "<mask> is a truth universally acknowledged."]
TARGETS = ["It was a dark and stormy night, and the rain fell in torrents.",
           "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.",
           "It is a truth universally acknowledged."]

# Texts for the tokenizer fixture: <mask> after a space and at the start, curly quotes, a newline,
# text that spells a special token, non-ASCII letters.
FIXTURE_TEXTS = SOURCES + TARGETS + ["Hello <mask> world", "\u201cWell,\u201d said he.\nNo <s> here, </s> or <pad>.",
                                     "Caf\u00e9 na\u00efve \u2014 r\u00e9sum\u00e9.  Two  spaces <mask>"]


def pretrain_tiny(build, out):
    cmd = [os.path.join(build, "train"), "pretrain", "--arch", "bart", "--corpus",
           os.path.join(ROOT, "tests", "fixtures", "train", "corpus.txt"), "--out", out, "--vocab-size", "300",
           "--encoder-layers", "2", "--decoder-layers", "1", "--dim", "32", "--heads", "4", "--context", "128",
           "--batch", "4", "--steps", "30", "--eval-every", "15", "--held-out-every", "5", "--lr", "3e-3"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="1"))
    return os.path.join(out, "model")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build directory (train, petl_logits)")
    ap.add_argument("--model", help="a model directory `train pretrain --arch bart` wrote (default: pretrain one now)")
    ap.add_argument("--write-fixture", help="write {text: input_ids} of FIXTURE_TEXTS by transformers' tokenizer here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ok = True
    with tempfile.TemporaryDirectory(prefix="petl-bart-check-") as tmp:
        model_dir = args.model or pretrain_tiny(args.build, os.path.join(tmp, "run"))

        # 1. loading, unchanged
        model, info = BartForConditionalGeneration.from_pretrained(model_dir, output_loading_info=True)
        model = model.float().eval()
        problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        print(f"1. from_pretrained: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters; "
              f"loading problems: {problems or 'none'}")
        ok &= not problems
        tok = AutoTokenizer.from_pretrained(model_dir)
        print(f"   AutoTokenizer: {type(tok).__name__}, {len(tok)} tokens")
        if args.write_fixture:
            ids = {text: tok(text)["input_ids"] for text in FIXTURE_TEXTS}
            lines = [f" {json.dumps(t, ensure_ascii=False)}: {json.dumps(i)}" for t, i in ids.items()]
            with open(args.write_fixture, "w") as f:
                f.write(f'{{"vocab_size": {len(tok)}, "input_ids": {{\n' + ",\n".join(lines) + "\n}}\n")
            print(f"   wrote transformers' ids of {len(ids)} texts to {args.write_fixture}")

        # 2. special ids
        config = json.load(open(os.path.join(model_dir, "config.json")))
        vocab = json.load(open(os.path.join(model_dir, "vocab.json")))
        got = {"<s>": tok.bos_token_id, "<pad>": tok.pad_token_id, "</s>": tok.eos_token_id,
               "<unk>": tok.unk_token_id, "<mask>": tok.mask_token_id}
        want = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": len(vocab) - 1}
        in_config = {"bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 2}
        config_ok = all(config[k] == v for k, v in in_config.items()) and config["vocab_size"] == len(vocab)
        print(f"2. tokenizer ids {got} (expected {want}); config.json "
              f"{ {k: config[k] for k in in_config} }, vocab_size {config['vocab_size']} of {len(vocab)} entries")
        ok &= got == want and config_ok and all(vocab[t] == i for t, i in want.items())

        # 3. <mask> takes the space before it
        ids = tok("Hello <mask> world")["input_ids"]
        pieces = tok.convert_ids_to_tokens(ids)
        mask_at = ids.index(tok.mask_token_id)
        lstrip_ok = ids[0] == 0 and ids[-1] == 2 and tok.decode(ids[1:mask_at]) == "Hello"
        print(f"3. 'Hello <mask> world' -> {pieces}: {'lstrip as BartTokenizer' if lstrip_ok else 'WRONG'}")
        ok &= lstrip_ok

        # 4. logits: transformers vs petl_logits on a batch transformers' tokenizer made
        enc = tok(SOURCES, padding=True, return_tensors="pt")
        labels = tok(text_target=TARGETS, padding=True, return_tensors="pt")["input_ids"]
        labels[labels == tok.pad_token_id] = -100
        decoder_input_ids = shift_tokens_right(labels, config["pad_token_id"], config["decoder_start_token_id"])
        inputs = os.path.join(tmp, "inputs.safetensors")
        out = os.path.join(tmp, "logits.safetensors")
        save_file({"input_ids": enc["input_ids"].contiguous(), "attention_mask": enc["attention_mask"].contiguous(),
                   "decoder_input_ids": decoder_input_ids.contiguous()}, inputs)
        subprocess.run([os.path.join(args.build, "petl_logits"), "--model", model_dir, "--inputs", inputs, "--out", out],
                       check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        petl = load_file(out)["logits"]
        with torch.no_grad():
            hf = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                       decoder_input_ids=decoder_input_ids, labels=labels)
        real = labels != -100
        diff = (hf.logits - petl).abs()[real].max().item()
        petl_loss = torch.nn.functional.cross_entropy(petl.reshape(-1, petl.shape[-1]), labels.reshape(-1)).item()
        print(f"4. logits [{', '.join(map(str, petl.shape))}]: max |transformers - petl| over {int(real.sum())} "
              f"target tokens = {diff:.3g}; loss transformers {hf.loss.item():.6f}, petl {petl_loss:.6f}")
        ok &= diff <= 1e-4 and abs(hf.loss.item() - petl_loss) <= 1e-5
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
