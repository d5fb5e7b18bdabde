#!/usr/bin/env python3
"""Rewrites petl's .cu/.cuh files into host C++ for the emulator (tests/cuda_emulation/CMakeLists.txt).

usage: transform.py SRC_DIR OUT_DIR
  kernel<<<grid, block, smem, stream>>>(args)  ->  ::emu::run_grid(id, ::emu::LaunchConfig(grid, block, smem, stream),
                                                                   [=] { kernel(args); })
  extern __shared__ ... smem_raw[]             ->  unsigned char* smem_raw = ::emu::dynamic_smem();
Files are written only when their content changes (keeps make-style timestamps meaningful).
"""
import glob
import os
import re
import sys


def rewrite_launches(s):
    out, i = [], 0
    while True:
        j = s.find('<<<', i)
        if j < 0:
            out.append(s[i:])
            return ''.join(out)
        m = re.search(r'([\w:]+(?:<[^<>;()]*>)?)\s*$', s[i:j])
        name, start = m.group(1), i + m.start(1)
        k = s.find('>>>', j)
        config = s[j + 3:k]
        p = s.index('(', k)
        depth, q = 0, p
        while True:
            depth += {'(': 1, ')': -1}.get(s[q], 0)
            if depth == 0:
                break
            q += 1
        args = s[p + 1:q]
        # Kernels whose template arguments are deduced from the call cannot be named alone.
        kid = 'nullptr' if 'strided_kernel' in name else f'reinterpret_cast<const void*>(&{name})'
        out.append(s[i:start])
        out.append(f'::emu::run_grid({kid}, ::emu::LaunchConfig({config}), [=] {{ {name}({args}); }})')
        i = q + 1


def main(src_dir, out_dir):
    os.makedirs(os.path.join(out_dir, 'tensor', 'cuda'), exist_ok=True)
    for src in sorted(glob.glob(os.path.join(src_dir, '*.cu')) + glob.glob(os.path.join(src_dir, '*.cuh'))):
        s = open(src).read()
        s = s.replace('extern __shared__ __align__(16) unsigned char smem_raw[];',
                      'unsigned char* smem_raw = ::emu::dynamic_smem();')
        s = rewrite_launches(s)
        name = os.path.basename(src)
        dst = os.path.join(out_dir, 'tensor', 'cuda', name + ('.cpp' if name.endswith('.cu') else ''))
        if not os.path.exists(dst) or open(dst).read() != s:
            open(dst, 'w').write(s)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
