#!/usr/bin/env python3
"""Tokenizer directories and the ids transformers gives for them (tests/fixtures/model_tokenizer/).

    python tools/oracle/tokenizer_fixtures.py                # (re)writes the fixtures
    python tools/oracle/tokenizer_fixtures.py --check BUILD  # also: directories petl saves load in transformers

A tiny byte-level BPE is built from the first 300 usable merges of GPT-2's vocab.bpe (from the shared
data directory, $PETL_DATA_DIR or ../shared/data): 256 byte symbols + 300 merge results + specials.
Directories, each as a model directory would hold it:
  gpt2_plain/  vocab.json + merges.txt (+ "<|endoftext|>") + config.json {"model_type": "gpt2"}
  gpt2_saved/  GPT2Tokenizer.save_pretrained of it (tokenizer.json + tokenizer_config.json only)
  bart_plain/  BART's layout: "<s>" 0, "<pad>" 1, "</s>" 2, "<unk>" 3, ..., "<mask>" last; config.json
               {"model_type": "bart"}; transformers gives "<mask>" no lstrip here
  bart_hub/    the same plus a tokenizer.json whose "<mask>" has lstrip, as facebook/bart-large's has
  bart_saved/  BartTokenizer.save_pretrained of bart_hub (tokenizer.json + tokenizer_config.json only)
expected.json: for each directory and text, tokenizer(text)["input_ids"], tokenizer(text_target=
text)["labels"] and decode(input_ids, skip_special_tokens=True).
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

from transformers import BartTokenizer, GPT2Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "model_tokenizer"
DATA = pathlib.Path(os.environ.get("PETL_DATA_DIR", ROOT.parent / "shared" / "data"))

TEXTS = [
    "Hello world",
    " Hello world",
    "",
    "the cat sat on the mat.\nThe end!",
    "naïve café 日本 🙂",
    "  two  spaces  ",
    "Hello <mask> world",
    "Hello<mask>world",
    "a \t <mask>\n b",
    "x </s> y<s>z<pad><unk>",
    "<s></s>",
    "text <|endoftext|> more<|endoftext|>",
    "<|endoftext|",
    "name[The Eagle], eatType[coffee shop] || The Eagle is a coffee shop.",
]


def byte_symbols():
    """GPT-2's byte -> printable symbol table."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def tiny_bpe(n_merges=300):
    lines = (DATA / "gpt2" / "vocab.bpe").read_text(encoding="utf-8").splitlines()[1:]
    symbols = byte_symbols()
    have, merges = set(symbols), []
    for line in lines:
        a, b = line.split(" ")
        if a in have and b in have and a + b not in have:
            merges.append((a, b))
            have.add(a + b)
            symbols.append(a + b)
        if len(merges) == n_merges:
            break
    return symbols, merges


def write_dir(name, vocab, merges, model_type):
    d = OUT / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
    (d / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    (d / "config.json").write_text(json.dumps({"model_type": model_type}) + "\n")
    return d


def saved_copy(tok, name, model_type):
    d = OUT / name
    shutil.rmtree(d, ignore_errors=True)
    tok.save_pretrained(str(d))
    (d / "config.json").write_text(json.dumps({"model_type": model_type}) + "\n")
    for p in d.iterdir():  # keep the fixture to what a model directory needs
        if p.name not in ("tokenizer.json", "tokenizer_config.json", "config.json"):
            p.unlink()


def expectations(tok):
    out = []
    for text in TEXTS:
        ids = tok(text)["input_ids"]
        labels = tok("source", text_target=text)["labels"]
        out.append({"text": text, "input_ids": ids, "labels": labels,
                    "decoded": tok.decode(ids, skip_special_tokens=True)})
    return out


def check_saved(build, expected):
    """BUILD/test_model_tokenizer saves gpt2_saved and bart_hub; transformers must read them back alike."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PETL_TOKENIZER_OUT=tmp)
        subprocess.run([str(pathlib.Path(build) / "test_model_tokenizer"), "--test-case=save writes*"],
                       check=True, env=env, cwd=ROOT)
        for name, cls in (("gpt2_saved", GPT2Tokenizer), ("bart_hub", BartTokenizer)):
            tok = cls.from_pretrained(str(pathlib.Path(tmp) / name))
            assert expectations(tok) == expected[name], name
            print(f"transformers reads the petl-saved {name}/ to the same ids", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", metavar="BUILD", help="also check directories saved by BUILD/test_model_tokenizer")
    args = parser.parse_args()
    symbols, merges = tiny_bpe()
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}

    gpt2_vocab = {s: i for i, s in enumerate(symbols)}
    gpt2_vocab["<|endoftext|>"] = len(gpt2_vocab)
    d = write_dir("gpt2_plain", gpt2_vocab, merges, "gpt2")
    gpt2 = GPT2Tokenizer.from_pretrained(str(d))
    expected["gpt2_plain"] = expectations(gpt2)
    saved_copy(gpt2, "gpt2_saved", "gpt2")
    expected["gpt2_saved"] = expectations(GPT2Tokenizer.from_pretrained(str(OUT / "gpt2_saved")))

    bart_vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for s in symbols:
        bart_vocab[s] = len(bart_vocab)
    bart_vocab["<mask>"] = len(bart_vocab)
    d = write_dir("bart_plain", bart_vocab, merges, "bart")
    expected["bart_plain"] = expectations(BartTokenizer.from_pretrained(str(d)))

    # bart_hub: the tokenizer.json of a tokenizer whose <mask> strips the whitespace before it.
    d = write_dir("bart_hub", bart_vocab, merges, "bart")
    (d / "tokenizer_config.json").write_text(json.dumps({"added_tokens_decoder": {str(bart_vocab["<mask>"]): {
        "content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False, "single_word": False,
        "special": True}}}) + "\n")
    hub = BartTokenizer.from_pretrained(str(d))
    hub.backend_tokenizer.save(str(d / "tokenizer.json"))
    (d / "tokenizer_config.json").unlink()
    bart_hub = BartTokenizer.from_pretrained(str(d))
    assert bart_hub.added_tokens_decoder[bart_vocab["<mask>"]].lstrip, "expected <mask> with lstrip"
    expected["bart_hub"] = expectations(bart_hub)
    saved_copy(bart_hub, "bart_saved", "bart")
    expected["bart_saved"] = expectations(BartTokenizer.from_pretrained(str(OUT / "bart_saved")))

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, cases in expected.items():
        print(name, cases[6]["input_ids"])
    if args.check:
        check_saved(args.check, expected)


if __name__ == "__main__":
    main()
