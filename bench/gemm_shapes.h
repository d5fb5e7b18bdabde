// The GEMM shapes petl_bench's cpu_gemm* entries time, and tools/oracle/bench_torch.py times the
// same list (its GEMM_SHAPES mirrors this file; keep the two in step).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace petl::bench {

// out [batch, M, N] = A [batch, M, K] @ B [batch, K, N]; a_t / b_t: the operand is a transposed
// view of a contiguous [K, M] / [N, K] tensor, as backward passes them (no copy is made).
struct GemmShape {
  std::string label;
  int64_t batch, M, N, K;
  bool a_t, b_t;
};

// The issue's three square-ish shapes.
inline std::vector<GemmShape> issue_gemm_shapes() {
  return {{"issue", 1, 1024, 1024, 1024, false, false},
          {"issue", 1, 768, 3072, 256, false, false},
          {"issue", 1, 3072, 768, 256, false, false}};
}

// Every distinct GEMM of one GPT-2 124M training step (d = 768, 12 heads of 64, V = 50257) at batch
// B, length T, rows R = B*T. Each Linear x[R, in] @ W[in, out] (Conv1D layout) runs forward
// y = x W (NN), dx = dy W^T (NT) and dW = x^T dy (TN); the LM head is tied to wte [V, d], so its
// forward reads wte^T (NT), dh = dlogits wte (NN) and d(wte^T) = h^T dlogits (TN). Unfused attention
// runs per-head [T, 64] products: scores Q K^T (NT), P V and dS K (NN), P^T dO and dS^T Q (TN).
inline std::vector<GemmShape> gpt2_gemm_shapes(int64_t B, int64_t T) {
  const int64_t R = B * T, d = 768, V = 50257, heads = 12, hd = 64;
  std::vector<GemmShape> s;
  struct Linear {
    const char* name;
    int64_t in, out;
  };
  for (const Linear l : {Linear{"c_attn", d, 3 * d}, Linear{"attn.c_proj", d, d}, Linear{"c_fc", d, 4 * d},
                         Linear{"mlp.c_proj", 4 * d, d}}) {
    s.push_back({std::string(l.name) + ".fwd", 1, R, l.out, l.in, false, false});
    s.push_back({std::string(l.name) + ".dx", 1, R, l.in, l.out, false, true});
    s.push_back({std::string(l.name) + ".dW", 1, l.in, l.out, R, true, false});
  }
  s.push_back({"lm_head.fwd", 1, R, V, d, false, true});
  s.push_back({"lm_head.dh", 1, R, d, V, false, false});
  s.push_back({"lm_head.dW", 1, d, V, R, true, false});
  s.push_back({"attn.QK^T", B * heads, T, T, hd, false, true});
  s.push_back({"attn.PV", B * heads, T, hd, T, false, false});
  s.push_back({"attn.P^TdO", B * heads, T, hd, T, true, false});
  return s;
}

}  // namespace petl::bench
