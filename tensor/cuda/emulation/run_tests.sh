#!/bin/bash
# Runs tests/test_cuda.cpp against the CUDA backend on a machine WITHOUT a GPU, by emulation:
# petl's .cu files are rewritten into host C++ (transform.py), compiled by g++ against fake
# cuda_runtime.h / cublas_v2.h (include/), and their kernels executed by a cooperative thread
# emulator (emu_runtime.cpp): every CUDA thread of a block is a ucontext coroutine that runs until
# its next __syncthreads / warp shuffle, so barriers, shuffles, shared and dynamic shared memory,
# atomics and launch limits (1024 threads, 48 KiB of shared memory without opt-in) behave as on a
# GPU. cudaMalloc memory and dynamic shared memory start as NaN bytes; cuBLAS is a naive BLAS with
# cuBLAS's argument checks (and TF32 input rounding). It checks index math, masking, tiling and
# barrier placement, not speed nor the GPU's own math-library rounding.
#
#   tensor/cuda/emulation/run_tests.sh [doctest args, e.g. -tc="*attention*"]
# Environment: EMU_ORDER=reverse|random runs the threads of a block in another order between
# barriers (exposes missing barriers); EMU_SMS=132 emulates an H100's SM count (grid sizes,
# reduction chunking); EMU_SANITIZE=1 builds with AddressSanitizer (out-of-bounds device-memory
# accesses abort); PETL_EMU_DIR sets the build directory (default build-emu; relative to the
# project root unless absolute).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out="${PETL_EMU_DIR:-build-emu}"
[[ "$out" = /* ]] || out="$root/$out"
mkdir -p "$out/obj"
python3 "$here/transform.py" "$root/tensor/cuda" "$out/gen"
flags=(-std=c++20 -O2 -g -march=native -fopenmp -Wall -Wextra -Wno-unknown-pragmas -DPETL_WITH_CUDA=1
       -I"$out/gen" -I"$here/include" -I"$root" -I"$root/tests" -isystem /usr/include/eigen3 -Wno-maybe-uninitialized)
link=(-fopenmp)
if [ -n "${EMU_SANITIZE:-}" ]; then flags+=(-fsanitize=address); link+=(-fsanitize=address); fi
gen_headers=("$out"/gen/tensor/cuda/*.cuh "$here/emu_device.h")
objs=()
jobs=0
compile() {  # compile SRC OBJ [extra flags]: only when SRC (or an emulation header) is newer
  local src=$1 obj=$2; shift 2
  objs+=("$obj")
  local stale=0
  [ -f "$obj" ] && [ "$obj" -nt "$src" ] || stale=1
  for h in "${gen_headers[@]}"; do [ "$h" -nt "$obj" ] && stale=1; done
  [ $stale = 1 ] || return 0
  rm -f "$obj"  # a failed compile must not leave an old object behind
  g++ "${flags[@]}" "$@" -c "$src" -o "$obj" &
  jobs=$((jobs + 1))
  if [ $jobs -ge "$(nproc)" ]; then wait -n; jobs=$((jobs - 1)); fi
}
for f in "$out"/gen/tensor/cuda/*.cu.cpp; do compile "$f" "$out/obj/$(basename "$f").o" -include "$here/emu_device.h"; done
for f in "$root"/tensor/cuda/*.cpp "$here/emu_runtime.cpp" "$root"/tensor/*.cpp "$root"/tensor/kernels/*.cpp "$root"/tensor/cpu/*.cpp \
         "$root"/autograd/*.cpp "$root"/tests/support/*.cpp "$root/tests/test_cuda.cpp"; do
  rel=${f#"$root"/}
  compile "$f" "$out/obj/${rel//\//_}.o"
done
wait
g++ "${link[@]}" -o "$out/test_cuda_emulated" "${objs[@]}"
cd "$root"
exec "$out/test_cuda_emulated" "$@"
