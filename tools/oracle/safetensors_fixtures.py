#!/usr/bin/env python3
"""Safetensors fixtures written by the reference implementation, and the reverse check.

    python tools/oracle/safetensors_fixtures.py                 # (re)writes tests/fixtures/safetensors/
    python tools/oracle/safetensors_fixtures.py --check BUILD   # also: petl writes, Python reads back

Writing uses the `safetensors` library (Rust core) and `transformers` save_pretrained:
  dtypes.safetensors + dtypes.json   one tensor per dtype, with edge values (subnormal float16,
                                     infinities, NaN, -0.0, integer extremes, a scalar, an empty
                                     tensor); the JSON holds the values as Python reads them back
  gpt2_tiny/                         GPT2LMHeadModel.save_pretrained (one model.safetensors)
  gpt2_tiny_sharded/                 the same model, max_shard_size small enough for several shards
  gpt2_tiny_bf16/                    the same model in bfloat16
The C++ tests (tests/test_safetensors.cpp) read them and compare.

--check BUILD runs BUILD/test_safetensors' "written for the oracle" case with PETL_SAFETENSORS_OUT
set, so petl writes its files there, then reads them with the safetensors library and compares with
the values the C++ test generated from the same formulas (expected_written() below), and loads
gpt2_tiny/ as petl re-saved it with transformers' from_pretrained.
"""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "safetensors"


def json_value(x):
    """A float or int as JSON can hold it: non-finite floats become strings."""
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0.0 and math.copysign(1.0, x) < 0:
            return "-0"
    return x


def dtype_tensors():
    f16 = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035156e-05, 5.9604645e-08, 3.0e-07,
                        float("inf"), float("-inf"), float("nan"), 0.1], dtype=torch.float16)
    bf16 = torch.tensor([[1.0, -3.140625, 1.0e-38, 3.0e38], [float("inf"), -0.0, 0.1, -1.0e-40]],
                        dtype=torch.bfloat16)
    g = torch.Generator().manual_seed(1234)
    return {
        "f32": torch.randn(2, 3, generator=g, dtype=torch.float32),
        "f32_scalar": torch.tensor(-7.25, dtype=torch.float32),
        "f32_empty": torch.zeros(0, 3, dtype=torch.float32),
        "f16": f16,
        "bf16": bf16,
        "f64": torch.tensor([1.0 / 3.0, -1e-300, 1e300], dtype=torch.float64),
        "i64": torch.tensor([0, -1, 2**63 - 1, -(2**63), 50256], dtype=torch.int64),
        "i32": torch.tensor([[1, -2147483648], [2147483647, 0]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, -1], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([True, False, False, True], dtype=torch.bool),
    }


def write_dtypes():
    tensors = dtype_tensors()
    path = OUT / "dtypes.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt", "written_by": "safetensors_fixtures.py"})
    expected = {"__metadata__": {"format": "pt", "written_by": "safetensors_fixtures.py"}}
    with safe_open(str(path), framework="pt") as f:
        for name in f.keys():
            t = f.get_tensor(name)
            wide = t.to(torch.float64) if t.is_floating_point() else t.to(torch.int64)
            expected[name] = {
                "dtype": str(t.dtype).replace("torch.", ""),
                "shape": list(t.shape),
                "values": [json_value(v) for v in wide.flatten().tolist()],
            }
    (OUT / "dtypes.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


def tiny_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=11, n_positions=8, n_embd=8, n_layer=2, n_head=2, bos_token_id=10, eos_token_id=10)
    return GPT2LMHeadModel(config).eval()


def write_models():
    model = tiny_gpt2()
    model.save_pretrained(OUT / "gpt2_tiny", safe_serialization=True)
    model.save_pretrained(OUT / "gpt2_tiny_sharded", safe_serialization=True, max_shard_size="3KB")
    model.to(torch.bfloat16).save_pretrained(OUT / "gpt2_tiny_bf16", safe_serialization=True)
    shards = sorted(p.name for p in (OUT / "gpt2_tiny_sharded").glob("model-*.safetensors"))
    assert len(shards) > 1, "expected a sharded checkpoint"
    print(f"gpt2_tiny_sharded: {len(shards)} shards")


# ---- the reverse direction: files petl wrote, read by the reference implementation

def written_values(n, kind):
    """The formulas tests/test_safetensors.cpp fills its tensors with (keep the two in step)."""
    i = np.arange(n, dtype=np.float64)
    if kind == "f32":
        return (i * 0.37 - 1.5).astype(np.float32)
    if kind == "f64":
        return i / 3.0 - 2.0
    return (np.arange(n, dtype=np.int64) * 7 - 11)


def expected_written():
    return {
        "a.weight": written_values(12, "f32").reshape(3, 4),
        "a.bias": written_values(4, "f32"),
        "b.f64": written_values(6, "f64").reshape(2, 3),
        "ids": written_values(5, "i64"),
        "scalar": written_values(1, "f32").reshape(()),
        "empty": written_values(0, "f32").reshape(0, 2),
    }


def check_written(build):
    exe = pathlib.Path(build) / "test_safetensors"
    expected = expected_written()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PETL_SAFETENSORS_OUT=tmp)
        subprocess.run([str(exe), "--test-case=*written for the oracle*"], check=True, env=env, cwd=ROOT)
        single = pathlib.Path(tmp) / "single.safetensors"
        got = load_file(str(single))
        with safe_open(str(single), framework="pt") as f:
            assert f.metadata() == {"format": "pt"}, f.metadata()
        compare(got, expected, single)
        sharded = pathlib.Path(tmp) / "sharded"
        index = json.loads((sharded / "model.safetensors.index.json").read_text())
        merged = {}
        for shard in sorted(set(index["weight_map"].values())):
            part = load_file(str(sharded / shard))
            for k in part:
                assert index["weight_map"][k] == shard, (k, shard)
            merged.update(part)
        assert set(merged) == set(index["weight_map"]), "index and shards disagree"
        total = sum(t.numel() * t.element_size() for t in merged.values())
        assert index["metadata"]["total_size"] == total, (index["metadata"], total)
        compare(merged, expected, sharded)
        check_resaved_gpt2(pathlib.Path(tmp) / "gpt2_resaved")
    print("petl-written files read back identically by safetensors", flush=True)


def check_resaved_gpt2(directory):
    """petl re-saved gpt2_tiny/: transformers must load it and find the very same weights."""
    from transformers import GPT2LMHeadModel

    original = GPT2LMHeadModel.from_pretrained(OUT / "gpt2_tiny").state_dict()
    resaved = GPT2LMHeadModel.from_pretrained(directory).state_dict()
    assert set(original) == set(resaved)
    for k in original:
        assert torch.equal(original[k], resaved[k]), k
    print(f"transformers loads the petl-written {directory.name}/ with identical weights", flush=True)


def compare(got, expected, where):
    assert set(got) == set(expected), f"{where}: keys {sorted(got)} vs {sorted(expected)}"
    for k, want in expected.items():
        t = got[k].numpy()
        assert t.dtype == want.dtype, f"{where}: {k}: dtype {t.dtype} vs {want.dtype}"
        assert t.shape == want.shape, f"{where}: {k}: shape {t.shape} vs {want.shape}"
        assert np.array_equal(t, want), f"{where}: {k}: values differ"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", metavar="BUILD", help="also check files written by BUILD/test_safetensors")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    write_dtypes()
    write_models()
    if args.check:
        check_written(args.check)


if __name__ == "__main__":
    sys.exit(main())
