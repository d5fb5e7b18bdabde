#!/usr/bin/env python3
"""Generate tokenizer/unicode_tables.cpp: code point ranges for \\p{L}, \\p{N} and \\s.

The GPT-2 pre-tokenizer pattern is
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
and the reference encoder this project matches (gpt-3-encoder, the JavaScript port of OpenAI's
encoder.py) evaluates it with the JavaScript regex engine, flag `u`. So the three classes are:

  letter   \\p{L}  General_Category Lu, Ll, Lt, Lm, Lo
  number   \\p{N}  General_Category Nd, Nl, No
  space    \\s     ECMAScript WhiteSpace + LineTerminator: U+0009..U+000D, U+FEFF, every Zs code
                  point, U+2028, U+2029. (Python's `regex` module, used by OpenAI's encoder.py,
                  differs in two code points: it adds U+0085 and drops U+FEFF. We follow the JS
                  reference, since that is what the reference ids were produced with.)

Two sources, same definitions:
  --source unicodedata   Python's own unicodedata module (its Unicode version is printed in the
                         header of the output; Python 3.11 carries Unicode 14.0.0).
  --source node          ask the JavaScript regex engine of the local `node` binary directly, i.e.
                         the very engine the reference ran on. It knows a newer Unicode (node 20
                         with ICU 78: Unicode 17.0). The script checks that both sources agree on
                         every code point assigned in Python's Unicode version and refuses to write
                         anything otherwise, so node only *adds* characters assigned later.

The committed tokenizer/unicode_tables.cpp was made with
    python3 tokenizer/gen_unicode_tables.py --source node > tokenizer/unicode_tables.cpp
"""
import argparse
import json
import subprocess
import sys
import unicodedata

MAX_CP = 0x10FFFF


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def from_unicodedata():
    letters, numbers, spaces = set(), set(), set()
    for cp in range(MAX_CP + 1):
        if is_surrogate(cp):
            continue
        cat = unicodedata.category(chr(cp))
        if cat[0] == "L":
            letters.add(cp)
        elif cat[0] == "N":
            numbers.add(cp)
        if cat == "Zs" or cp in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0xFEFF, 0x2028, 0x2029):
            spaces.add(cp)
    version = "Unicode %s (Python %s unicodedata)" % (
        unicodedata.unidata_version, sys.version.split()[0])
    return letters, numbers, spaces, version


NODE_SCRIPT = r"""
const L = /\p{L}/u, N = /\p{N}/u, S = /\s/u;
const out = { L: [], N: [], S: [] };
for (let c = 0; c <= 0x10FFFF; c++) {
  if (c >= 0xD800 && c <= 0xDFFF) continue;
  const s = String.fromCodePoint(c);
  if (L.test(s)) out.L.push(c);
  if (N.test(s)) out.N.push(c);
  if (S.test(s)) out.S.push(c);
}
out.version = "Unicode " + process.versions.unicode + " (node " + process.versions.node +
              " regex engine, ICU " + process.versions.icu + ")";
process.stdout.write(JSON.stringify(out));
"""


def from_node():
    raw = subprocess.run(["node", "-e", NODE_SCRIPT], check=True, capture_output=True).stdout
    data = json.loads(raw)
    return set(data["L"]), set(data["N"]), set(data["S"]), data["version"]


def check_against_unicodedata(letters, numbers, spaces):
    """Every code point assigned in Python's Unicode version must be classified identically."""
    py_l, py_n, py_s, _ = from_unicodedata()
    bad = []
    for cp in range(MAX_CP + 1):
        if is_surrogate(cp) or unicodedata.category(chr(cp)) == "Cn":
            continue
        got = (cp in letters, cp in numbers, cp in spaces)
        want = (cp in py_l, cp in py_n, cp in py_s)
        if got != want:
            bad.append("U+%04X node=%s python=%s" % (cp, got, want))
    if bad:
        sys.exit("node and unicodedata disagree on assigned code points:\n  " + "\n  ".join(bad[:50]))


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] + 1 == cp:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def emit_table(name, rs):
    lines = ["const CodePointRange %s[] = {" % name]
    row = []
    for first, last in rs:
        row.append("{0x%04X, 0x%04X}," % (first, last))
        if len(row) == 5:
            lines.append("    " + " ".join(row))
            row = []
    if row:
        lines.append("    " + " ".join(row))
    lines.append("};")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=["unicodedata", "node"], default="unicodedata")
    args = ap.parse_args()
    if args.source == "node":
        letters, numbers, spaces, version = from_node()
        check_against_unicodedata(letters, numbers, spaces)
    else:
        letters, numbers, spaces, version = from_unicodedata()
    if letters & numbers or letters & spaces or numbers & spaces:
        sys.exit("classes overlap")

    tables = [("kLetterRanges", ranges(letters)), ("kNumberRanges", ranges(numbers)),
              ("kSpaceRanges", ranges(spaces))]
    print("// GENERATED by tokenizer/gen_unicode_tables.py --source %s; do not edit by hand." % args.source)
    print("// Character data: %s." % version)
    print("// letter = \\p{L} (%d code points), number = \\p{N} (%d), space = JavaScript \\s (%d)."
          % (len(letters), len(numbers), len(spaces)))
    print('#include "tokenizer/unicode_tables.h"')
    print()
    print("namespace petl::tokenizer::unicode {")
    print()
    print("namespace {")
    for name, rs in tables:
        print(emit_table(name, rs))
        print()
    print("}  // namespace")
    print()
    for name, rs in tables:
        accessor = {"kLetterRanges": "letter_ranges", "kNumberRanges": "number_ranges",
                    "kSpaceRanges": "space_ranges"}[name]
        print("std::span<const CodePointRange> %s() { return %s; }" % (accessor, name))
    print("const char* table_unicode_version() { return \"%s\"; }" % version.replace('"', "'"))
    print()
    print("}  // namespace petl::tokenizer::unicode")


if __name__ == "__main__":
    main()
