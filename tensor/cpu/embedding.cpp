// Embedding lookup (a gather of rows) and its gradient (a scatter-add of rows).
#include <cstring>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided_loop.h"

namespace petl {

namespace {
void check_ids(const int64_t* ids, int64_t n, int64_t vocab, const char* op) {
  for (int64_t i = 0; i < n; ++i)
    PETL_CHECK(ids[i] >= 0 && ids[i] < vocab, op, ": id ", ids[i], " at position ", i, " is outside [0, ", vocab,
               ")");
}
}  // namespace

void CpuBackend::embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) {
  dispatch_float(weight.dtype(), "embedding", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t vocab = weight.size(0), dim = weight.size(1), n = ids.numel();
    const int64_t* pid = ids.data<int64_t>();
    check_ids(pid, n, vocab, "embedding");
    const T* pw = weight.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for if (n * dim >= cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) std::memcpy(po + i * dim, pw + pid[i] * dim, size_t(dim) * sizeof(T));
  });
}

void CpuBackend::embedding_backward(const Tensor& g, const Tensor& ids, const Tensor& dweight) {
  dispatch_float(g.dtype(), "embedding_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t vocab = dweight.size(0), dim = dweight.size(1), n = ids.numel();
    const int64_t* pid = ids.data<int64_t>();
    check_ids(pid, n, vocab, "embedding_backward");
    const T* pg = g.data<T>();
    T* pd = dweight.data<T>();
    // Threads own disjoint column ranges, so repeated ids never race.
    constexpr int64_t kCols = 64;
#pragma omp parallel for if (n * dim >= cpu::kParallelGrain)
    for (int64_t c0 = 0; c0 < dim; c0 += kCols) {
      const int64_t c1 = std::min(dim, c0 + kCols);
      for (int64_t i = 0; i < n; ++i) {
        T* dst = pd + pid[i] * dim;
        const T* src = pg + i * dim;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
    }
  });
}

}  // namespace petl
