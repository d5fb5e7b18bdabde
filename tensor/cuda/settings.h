// Switches of the CUDA backend that callers may flip; this header needs no CUDA headers, and
// builds without CUDA get inline no-op definitions.
//
// TF32: float32 GEMMs (kernel::matmul on CUDA) run on tensor cores in TF32 (10-bit mantissa
// inputs, float32 accumulation) when enabled. That is ~8x the FP32 throughput on Hopper, with a
// relative error of about 2^-11 per product, i.e. ~1e-3 relative in a K-term dot product against
// ~1e-6 in FP32. Default: on, unless the environment variable PETL_CUDA_TF32 is 0/false/off.
// set_tf32(false) is the float32 reference mode. Only cuBLAS GEMMs are affected: every other
// kernel computes in full float32 (or float64), and float64 GEMMs never use TF32.
#pragma once

namespace petl::cuda {

#if defined(PETL_WITH_CUDA)
void set_tf32(bool enabled);
bool tf32_enabled();
// Waits for every op queued on every device petl has used.
void synchronize_all();
#else
inline void set_tf32(bool) {}
inline bool tf32_enabled() { return false; }
inline void synchronize_all() {}
#endif

// Sets TF32 for the lifetime of the object and restores the previous value after.
class ScopedTf32 {
 public:
  explicit ScopedTf32(bool enabled) : previous_(tf32_enabled()) { set_tf32(enabled); }
  ~ScopedTf32() { set_tf32(previous_); }
  ScopedTf32(const ScopedTf32&) = delete;
  ScopedTf32& operator=(const ScopedTf32&) = delete;

 private:
  bool previous_;
};

}  // namespace petl::cuda
