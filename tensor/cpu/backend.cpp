// The CPU backend instance (its ops live in tensor/cpu/<family>.cpp).
#include "tensor/cpu/backend.h"

namespace petl {

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace petl
