// Batched GEMM through cuBLAS: out[b] (=|+=) a[b] @ c[b], out row-major [batch, M, N].
//
// cuBLAS is column-major; a row-major [M, N] matrix is the column-major [N, M] matrix of its
// transpose, so we ask for out^T = c^T a^T, i.e. m = N, n = M, k = K, cuBLAS's A = our c and
// cuBLAS's B = our a. Each operand is read in place in whichever layout its strides give:
//   row-major storage (unit column stride, leading dim = row stride) read column-major is X^T
//   already: op = N;  column-major storage (unit row stride) is X: op = T.
// Batch strides go straight to the strided-batched call (0 = the same matrix for every batch).
// Float32 uses TF32 tensor cores unless petl::cuda::set_tf32(false) (see tensor/cuda/settings.h).
#include <algorithm>
#include <climits>

#include "tensor/cuda/backend.h"
#include "tensor/cuda/check.h"
#include "tensor/cuda/context.h"
#include "tensor/cuda/settings.h"

namespace petl {

namespace {

struct GemmOperand {
  const void* ptr = nullptr;
  cublasOperation_t op = CUBLAS_OP_N;
  int64_t ld = 1;
  int64_t batch_stride = 0;
};

// A [R, C] matrix view (element (r, c) at r * rs + c * cs) as a cuBLAS operand, or false when
// neither storage order fits cuBLAS's rules (a unit stride on one side, ld >= the other extent).
bool as_operand(int64_t R, int64_t C, int64_t rs, int64_t cs, GemmOperand& g) {
  if ((cs == 1 || C == 1) && (R == 1 || rs >= std::max<int64_t>(C, 1))) {
    g.op = CUBLAS_OP_N;  // row-major: column-major [C, R] = X^T
    g.ld = R == 1 ? std::max<int64_t>(C, 1) : rs;
    return true;
  }
  if ((rs == 1 || R == 1) && (C == 1 || cs >= std::max<int64_t>(R, 1))) {
    g.op = CUBLAS_OP_T;  // column-major: X itself, transposed by cuBLAS
    g.ld = C == 1 ? std::max<int64_t>(R, 1) : cs;
    return true;
  }
  return false;
}

// Operand for x [batch, R, C]; copies x into `holder` (contiguous) when its layout does not fit.
GemmOperand operand_of(CudaBackend& be, const Tensor& x, Tensor& holder) {
  const int64_t batch = x.size(0), R = x.size(1), C = x.size(2);
  GemmOperand g;
  if (!as_operand(R, C, x.strides()[1], x.strides()[2], g)) {
    holder = Tensor::empty(x.shape(), x.dtype(), x.device());
    be.copy(holder, x);
    PETL_CHECK(as_operand(R, C, holder.strides()[1], holder.strides()[2], g), "matmul: internal layout error");
    g.ptr = holder.raw_data();
    g.batch_stride = batch > 1 ? holder.strides()[0] : 0;
    return g;
  }
  g.ptr = x.raw_data();
  g.batch_stride = batch > 1 ? x.strides()[0] : 0;
  return g;
}

void check_int(int64_t v, const char* what) {
  PETL_CHECK(v >= 0 && v <= INT_MAX, "matmul: ", what, " = ", v, " exceeds cuBLAS's 32-bit limit");
}

}  // namespace

void CudaBackend::matmul(const Tensor& a, const Tensor& c, const Tensor& out, bool accumulate) {
  const int64_t batch = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) {
    if (!accumulate) fill(out, 0.0);
    return;
  }
  PETL_CHECK(a.dtype() == DType::F32 || a.dtype() == DType::F64, "matmul: expected float32 or float64, got ",
             dtype_name(a.dtype()));
  cuda::Context& ctx = cuda::context_of(out);
  Tensor a_holder, c_holder;
  const GemmOperand A = operand_of(*this, a, a_holder);  // our a [M, K] -> cuBLAS's B
  const GemmOperand C = operand_of(*this, c, c_holder);  // our c [K, N] -> cuBLAS's A
  for (int64_t v : {M, N, K}) check_int(v, "a matrix dimension");
  check_int(A.ld, "a leading dimension");
  check_int(C.ld, "a leading dimension");

  const bool f32 = a.dtype() == DType::F32;
  const bool tf32 = f32 && cuda::tf32_enabled();
  if (ctx.cublas_tf32 != int(tf32)) {  // the compute type below decides; the handle's mode agrees with it
    PETL_CUBLAS_CHECK(cublasSetMathMode(ctx.cublas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    ctx.cublas_tf32 = int(tf32);
  }
  const cudaDataType_t type = f32 ? CUDA_R_32F : CUDA_R_64F;
  const cublasComputeType_t compute =
      f32 ? (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F) : CUBLAS_COMPUTE_64F;
  const float alpha_f = 1.0f, beta_f = accumulate ? 1.0f : 0.0f;
  const double alpha_d = 1.0, beta_d = accumulate ? 1.0 : 0.0;
  const void* alpha = f32 ? static_cast<const void*>(&alpha_f) : static_cast<const void*>(&alpha_d);
  const void* beta = f32 ? static_cast<const void*>(&beta_f) : static_cast<const void*>(&beta_d);
  const std::size_t elem = dtype_size(a.dtype());
  const char* pa = static_cast<const char*>(A.ptr);
  const char* pc = static_cast<const char*>(C.ptr);
  char* po = static_cast<char*>(out.raw_data());

  if (batch == 1) {
    PETL_CUBLAS_CHECK(cublasGemmEx(ctx.cublas, C.op, A.op, int(N), int(M), int(K), alpha, pc, type, int(C.ld), pa,
                                   type, int(A.ld), beta, po, type, int(N), compute, CUBLAS_GEMM_DEFAULT));
    return;
  }
  // Batches in slices of at most 65535 (the grid limit some cuBLAS kernels put on the batch count).
  constexpr int64_t kMaxBatch = 65535;
  for (int64_t b0 = 0; b0 < batch; b0 += kMaxBatch) {
    const int64_t nb = std::min(kMaxBatch, batch - b0);
    PETL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        ctx.cublas, C.op, A.op, int(N), int(M), int(K), alpha, pc + std::size_t(b0 * C.batch_stride) * elem, type,
        int(C.ld), static_cast<long long>(C.batch_stride), pa + std::size_t(b0 * A.batch_stride) * elem, type,
        int(A.ld), static_cast<long long>(A.batch_stride), beta, po + std::size_t(b0 * M * N) * elem, type, int(N),
        static_cast<long long>(M * N), int(nb), compute, CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace petl
