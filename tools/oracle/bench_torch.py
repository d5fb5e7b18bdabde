"""PyTorch baseline for petl_bench's GPT-2 entries (bench/bench_gpt2.cpp) and CPU attention entries
(bench/bench_attention.cpp), same configurations and the same output lines, so the two can be run one
after the other on one machine:

  ./build/petl_bench --only gpt2_train_b4_t64,gpt2_train_b8_t256,gpt2_decode
  "$(tools/oracle/setup_venv.sh)" tools/oracle/bench_torch.py

(tools/oracle/compare_attention.py alternates the attention entries of both and prints median ratios.)

transformers GPT2LMHeadModel at the 124M shape (random weights), training mode (dropout on), trained
with torch.optim.AdamW (lr 1e-4, weight decay 0.01) over the trainable parameters, float32, at 1 and
then 2 threads (--threads) with a scaling line, as petl_bench; medians over the timed steps after one
warm-up step. Methods (entry suffixes as petl_bench's):
full fine-tuning (no suffix), _lora (peft LoraConfig r=8, alpha 8, c_attn), _prefix (peft
PrefixTuningConfig, 10 virtual tokens), _prompt (peft PromptTuningConfig, 10 virtual tokens), _ia3
(peft IA3Config, its GPT-2 defaults), _bitfit (biases only, plain torch), _prefix_mlp (peft
PrefixTuningConfig, 5 virtual tokens, prefix_projection with encoder_hidden_size 512: petl's "prefix"
preset), _ft_top2 (plain torch: the last 2 blocks, ln_f and wte train: petl's "ft-top-2" preset). The
bottleneck methods have no peft implementation; with the AdapterHub venv (tools/oracle/setup_venv.sh adapters,
tools/oracle/requirements-adapters.txt, whose `adapters` 1.3 runs on its own transformers) these entries
use `adapters`: _houlsby (DoubleSeqBnConfig, reduction factor 12: m = 64), _pfeiffer (SeqBnConfig,
reduction factor 16), _parallel (ParBnConfig, r = 512, s = 4), _plain_pa (ParBnConfig, r = 512, s = 1,
bert init), _par_bn (ParBnConfig defaults: r = d/2, s = 4), _mam (MAMConfig: prefix 30 with
bottleneck 800 + ParBn r = 512). petl's _mh_pa and _lora_paper (LoRA on the q and v column blocks of
c_attn) have no library counterpart and no row here. AdapterHub's Houlsby keeps the LayerNorms
frozen where petl's "houlsby" trains them, and its parallel adapters read the residual stream. Decoding: greedy generate()
with the KV cache, EOS banned (min_new_tokens = max_new_tokens). Peak RSS: VmHWM, reset before each
configuration.

GEMM entries (cpu_gemm, cpu_gemm_gpt2_b4_t64, cpu_gemm_gpt2_b8_t256; not run by default): torch.matmul
on the shapes of bench/gemm_shapes.h, operands laid out as there (transposed views), float32
GFLOP/s at 1 and 2 threads, the median of 3 samples of at least 0.1 s after one warm-up call --
the lines petl_bench's entries of the same names print. tools/bench_compare.py alternates the two.

Attention: torch.nn.functional.scaled_dot_product_attention, float32, causal, q/k/v [B, H, T, D];
forward alone (no autograd) and forward + backward (dQ, dK, dV), at 1 and 2 threads, each the median
of individually timed calls after one warm-up call, wall clock and process CPU time. The decoding
entry (one query over 80 keys) uses is_causal=False: torch aligns its causal mask top-left, petl
bottom-right, and for a single query petl's causal rule shows every key.

  --only NAME[,NAME...]   gpt2_train_b4_t64[_METHOD], gpt2_train_b8_t256[_METHOD] (METHOD: lora, prefix,
                          prompt, ia3, bitfit, prefix_mlp, ft_top2; with adapters: houlsby, pfeiffer,
                          parallel, plain_pa, par_bn, mam), gpt2_decode,
                          cpu_attention, cpu_attention_b8_t256, cpu_attention_b4_t64, cpu_attention_decode,
                          cpu_gemm, cpu_gemm_gpt2_b4_t64, cpu_gemm_gpt2_b8_t256
  --quick                 the CI smoke shape petl_bench --quick uses (2 layers, d=128, V=4096)
  --threads N             torch intra-op threads (default 2)
"""

import argparse
import statistics
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def bench_config(quick):
    if quick:
        return GPT2Config(vocab_size=4096, n_layer=2, n_embd=128, n_head=4, bos_token_id=4095, eos_token_id=4095)
    return GPT2Config()  # gpt2 124M


METHODS = ["full", "lora", "prefix", "prompt", "ia3", "bitfit", "prefix_mlp", "ft_top2"]
ADAPTERS_METHODS = ["houlsby", "pfeiffer", "parallel", "plain_pa", "par_bn", "mam"]


def adapters_config(method):
    import adapters
    return {
        "houlsby": lambda: adapters.DoubleSeqBnConfig(reduction_factor=12),
        "pfeiffer": lambda: adapters.SeqBnConfig(reduction_factor=16),
        "parallel": lambda: adapters.ParBnConfig(reduction_factor=1.5, scaling=4.0),
        "plain_pa": lambda: adapters.ParBnConfig(reduction_factor=1.5, scaling=1.0, init_weights="bert"),
        "par_bn": lambda: adapters.ParBnConfig(),
        "mam": lambda: adapters.MAMConfig(adapters.PrefixTuningConfig(prefix_length=30, bottleneck_size=800),
                                          adapters.ParBnConfig(reduction_factor=1.5)),
    }[method]()


def attach(method, model):
    """The model wrapped for `method` (peft's get_peft_model, or the model with some parameters frozen)."""
    if method == "full":
        return model
    if method == "bitfit":
        for name, p in model.named_parameters():
            p.requires_grad_(name.endswith(".bias"))
        return model
    if method == "ft_top2":  # the last 2 blocks, the final LayerNorm and the (tied) embeddings
        trained = {f"h.{i}." for i in range(model.config.n_layer - 2, model.config.n_layer)} | {"ln_f.", "wte."}
        for name, p in model.named_parameters():
            inner = name.removeprefix("transformer" + ".")  # the parameter's name inside GPT2Model
            p.requires_grad_(any(inner.startswith(t) for t in trained))
        return model
    if method in ADAPTERS_METHODS:
        import adapters
        adapters.init(model)
        model.add_adapter("bench", config=adapters_config(method))
        model.train_adapter("bench")
        return model
    import peft

    if method == "lora":
        config = peft.LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=8, lora_dropout=0.0,
                                 target_modules=["c_attn"], fan_in_fan_out=True)
    elif method == "prefix":
        config = peft.PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=10)
    elif method == "prefix_mlp":
        config = peft.PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5, prefix_projection=True,
                                         encoder_hidden_size=512)
    elif method == "prompt":
        config = peft.PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=10)
    elif method == "ia3":
        config = peft.IA3Config(task_type="CAUSAL_LM")
    else:
        raise SystemExit(f"bench_torch: unknown method {method!r}")
    return peft.get_peft_model(model, config)


def train_row(batch, length, timed_steps, quick, method="full"):
    reset_peak_rss()
    torch.manual_seed(1234)
    model = attach(method, GPT2LMHeadModel(bench_config(quick)))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)
    gen = torch.Generator().manual_seed(7)
    vocab = bench_config(quick).vocab_size
    seconds, cpu_seconds = [], []
    for step in range(timed_steps + 1):  # step 0 warms up
        ids = torch.randint(0, vocab, (batch, length), generator=gen)
        start, cpu_start = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if step > 0:
            seconds.append(elapsed)
            cpu_seconds.append(cpu)
    ms = statistics.median(seconds) * 1e3
    tag = "-quick" if quick else ""
    print(f"torch gpt2{tag} train B={batch} T={length} {method:<8} threads={torch.get_num_threads()}  "
          f"median {ms:.1f} ms/step "
          f"(CPU {statistics.median(cpu_seconds):.1f} s)  "
          f"{batch * length / (ms * 1e-3):.1f} tokens/s  peak RSS {peak_rss_mb():.0f} MB  ({timed_steps} steps)",
          flush=True)
    return ms * 1e-3


def decode_row(batch, prompt, new, repeats, quick):
    reset_peak_rss()
    torch.manual_seed(1234)
    model = GPT2LMHeadModel(bench_config(quick)).eval()
    vocab = model.config.vocab_size
    ids = (torch.arange(batch * prompt) * 7919 % vocab).view(batch, prompt)
    mask = torch.ones_like(ids)
    seconds = []
    for r in range(repeats + 1):
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new,
                                 do_sample=False, pad_token_id=model.config.eos_token_id)
        elapsed = time.perf_counter() - start
        assert out.shape[1] == prompt + new, out.shape
        if r > 0:
            seconds.append(elapsed)
    s = statistics.median(seconds)
    tag = "-quick" if quick else ""
    print(f"torch gpt2{tag} decode B={batch} prompt={prompt} new={new} KV-cache greedy "
          f"threads={torch.get_num_threads()}  median "
          f"{s * 1e3 / new:.1f} ms/token  {batch * new / s:.1f} tokens/s  peak RSS {peak_rss_mb():.0f} MB  "
          f"({repeats} runs)", flush=True)
    return s


def at_1_and_n_threads(what, max_threads, row):
    """row() at 1 and then max_threads torch threads (petl_bench: 1 and 2), and the scaling line."""
    seconds = []
    for threads in sorted({1, max_threads}):
        torch.set_num_threads(threads)
        seconds.append(row())
    torch.set_num_threads(max_threads)
    if len(seconds) == 2:
        slower = "  (SLOWER with more threads)" if seconds[1] > seconds[0] else ""
        print(f"torch {what} thread scaling: {max_threads} threads {seconds[0] / seconds[1]:.2f}x the speed of 1"
              f"{slower}", flush=True)


# bench/gemm_shapes.h, shape for shape: (label, batch, M, N, K, A transposed, B transposed).
def issue_gemm_shapes():
    return [("issue", 1, 1024, 1024, 1024, False, False), ("issue", 1, 768, 3072, 256, False, False),
            ("issue", 1, 3072, 768, 256, False, False)]


def gpt2_gemm_shapes(batch, length):
    rows, d, vocab, heads, hd = batch * length, 768, 50257, 12, 64
    shapes = []
    for name, fan_in, fan_out in (("c_attn", d, 3 * d), ("attn.c_proj", d, d), ("c_fc", d, 4 * d),
                                  ("mlp.c_proj", 4 * d, d)):
        shapes += [(f"{name}.fwd", 1, rows, fan_out, fan_in, False, False),
                   (f"{name}.dx", 1, rows, fan_in, fan_out, False, True),
                   (f"{name}.dW", 1, fan_in, fan_out, rows, True, False)]
    shapes += [("lm_head.fwd", 1, rows, vocab, d, False, True), ("lm_head.dh", 1, rows, d, vocab, False, False),
               ("lm_head.dW", 1, d, vocab, rows, True, False),
               ("attn.QK^T", batch * heads, length, length, hd, False, True),
               ("attn.PV", batch * heads, length, hd, length, False, False),
               ("attn.P^TdO", batch * heads, length, hd, length, True, False)]
    return shapes


def gemm_operand(batch, rows, cols, transposed):
    shape = (batch, cols, rows) if transposed else (batch, rows, cols)
    x = torch.randn(shape[1:] if batch == 1 else shape)
    return x.transpose(-1, -2) if transposed else x


def median_seconds_per_call(f, samples, min_seconds):
    f()
    per_call = []
    for _ in range(samples):
        calls, start = 0, time.perf_counter()
        while True:
            f()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        per_call.append(elapsed / calls)
    return sorted(per_call)[len(per_call) // 2]


def gemm_rows(shapes, quick):
    threads_before = torch.get_num_threads()
    print(f"gemm kernel: torch {torch.__version__} ({'MKL' if torch.backends.mkl.is_available() else 'no MKL'})",
          flush=True)
    for label, batch, m, n, k, a_t, b_t in shapes:
        a, b = gemm_operand(batch, m, k, a_t), gemm_operand(batch, k, n, b_t)
        gflops = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            seconds = median_seconds_per_call(lambda: torch.matmul(a, b), 1 if quick else 3, 0.02 if quick else 0.1)
            gflops.append(2.0 * batch * m * n * k / seconds * 1e-9)
        print(f"torch gemm f32 {label:<12} {m:5d}x{n:5d}x{k:5d} {'T' if a_t else 'N'}{'T' if b_t else 'N'} "
              f"batch {batch:3d}   1 thread {gflops[0]:7.1f} GFLOP/s   2 threads {gflops[1]:7.1f} GFLOP/s   "
              f"(x{gflops[1] / gflops[0]:.2f})", flush=True)
    torch.set_num_threads(threads_before)


def median_ms(f, min_seconds):
    """Median milliseconds per call of f (after one warm-up call): wall clock and process CPU time."""
    f()
    wall, cpu = [], []
    start = time.perf_counter()
    while len(wall) < 5 or time.perf_counter() - start < min_seconds:
        t0, c0 = time.perf_counter(), time.process_time()
        f()
        cpu.append((time.process_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def attention_rows(B, H, Tq, Tk, D, with_backward, min_seconds, max_threads):
    sdpa = torch.nn.functional.scaled_dot_product_attention
    gen = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(B, H, t, D, generator=gen) for t in (Tq, Tk, Tk))
    g = torch.randn(B, H, Tq, D, generator=gen)
    causal = Tq == Tk  # one decoding query sees every cached key (petl's bottom-right causal rule)
    for threads in (1, 2):
        if threads > max_threads:
            break
        torch.set_num_threads(threads)
        with torch.no_grad():
            fwd, fwd_cpu = median_ms(lambda: sdpa(q, k, v, is_causal=causal), min_seconds)
        line = (f"torch attention causal B={B} H={H} Tq={Tq} Tk={Tk} D={D} threads={threads}  "
                f"forward {fwd:.3f} ms (cpu {fwd_cpu:.3f} ms)")
        if with_backward:
            qg, kg, vg = (t.clone().requires_grad_(True) for t in (q, k, v))

            def step():
                qg.grad = kg.grad = vg.grad = None
                sdpa(qg, kg, vg, is_causal=causal).backward(g)

            both, both_cpu = median_ms(step, min_seconds)
            line += f"  forward+backward {both:.3f} ms (cpu {both_cpu:.3f} ms)"
        print(line, flush=True)
    torch.set_num_threads(max_threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="gpt2_train_b4_t64,gpt2_train_b8_t256,gpt2_decode")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"bench_torch: torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    q = args.quick
    t, n = (0.2 if q else 1.0), args.threads
    entries = {
        "gpt2_decode": lambda: at_1_and_n_threads("gpt2 decode", n,
                                                  lambda: decode_row(1, 16, 16 if q else 64, 1 if q else 3, q)),
        # bench/bench_attention.cpp's shapes (quick: its smaller CI sizes)
        "cpu_attention": lambda: attention_rows(*((1, 12, 128, 128) if q else (4, 12, 256, 256)), 64, True, t, n),
        "cpu_attention_b8_t256": lambda: attention_rows(*((2, 12, 128, 128) if q else (8, 12, 256, 256)), 64, True,
                                                        t, n),
        "cpu_attention_b4_t64": lambda: attention_rows(4, 12, 64, 64, 64, True, t, n),
        "cpu_attention_decode": lambda: attention_rows(1, 12, 1, 80, 64, False, t, n),
        "cpu_gemm": lambda: gemm_rows(issue_gemm_shapes(), q),
        "cpu_gemm_gpt2_b4_t64": lambda: gemm_rows(gpt2_gemm_shapes(4, 64), q),
        "cpu_gemm_gpt2_b8_t256": lambda: gemm_rows(gpt2_gemm_shapes(8, 256), q),
    }
    for method in METHODS + ADAPTERS_METHODS:
        suffix = "" if method == "full" else "_" + method
        entries["gpt2_train_b4_t64" + suffix] = lambda m=method: at_1_and_n_threads(
            f"gpt2 train {m}", n, lambda: train_row(4, 64, 2 if q else 3, q, m))
        entries["gpt2_train_b8_t256" + suffix] = lambda m=method: at_1_and_n_threads(
            f"gpt2 train {m}", n, lambda: train_row(8, 256, 1 if q else 2, q, m))
    for name in args.only.split(","):
        if name not in entries:
            raise SystemExit(f"bench_torch: unknown entry {name!r}; known: {', '.join(entries)}")
        print(f"\n== {name} ==", flush=True)
        entries[name]()


if __name__ == "__main__":
    main()
