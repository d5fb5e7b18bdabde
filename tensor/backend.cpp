// Backend selection by device (the backends themselves live in tensor/cpu/ and tensor/cuda/).
#include "tensor/backend.h"

namespace petl {

Backend& backend_for(Device device) { return device.is_cuda() ? cuda_backend() : cpu_backend(); }

}  // namespace petl
