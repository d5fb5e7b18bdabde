#!/usr/bin/env python3
"""Scores system outputs with the reference implementations and writes the metric fixtures.

    tools/oracle/metrics_oracle.py --data /path/to/shared/data \
        --mteval /tmp/mteval-v13a-sig.pl --multi-bleu /tmp/multi-bleu.perl \
        [--out tests/fixtures/metrics]

The reference tools, as each task's official evaluation runs them:
  E2E     tuetschek/e2e-metrics measure_scores.py: BLEU and NIST from mteval-v13a-sig.pl (Perl,
          pass its path with --mteval; the script prints 4 decimals, a copy that prints the system
          scores with more digits gives the fixtures more), METEOR / ROUGE_L / CIDEr from
          pycocoevalcap 1.2 after its PTBTokenizer (Stanford CoreNLP 3.4.1 jar, needs java).
  WebNLG  webnlg-automatic-evaluation/evaluation.py writes references and outputs tokenized at
          every \\W character, lowercased and unidecode'd (webnlg_reference_text /
          webnlg_output_text below, its steps in its order); then `multi-bleu.perl -lc` over the
          first 3 references (entries with fewer padded with empty lines), TER of tercom 0.7.25
          defaults over the same (unpadded) references -- computed with sacrebleu 2.6.0's tercom
          port (no tercom jar is in PyPI or Debian).
  DART    Yale-LILY/dart evaluation/run_eval_on_dart.sh scores against its all-delex-reference
          files (lowercased, \\W-tokenized; LoRA's gpt2_decode.py --lower --tokenize makes the
          same from the JSON and applies it to the outputs: dart_text below): `multi-bleu.perl`
          (no -lc) over 3 references, METEOR 1.5 (`-l en -norm -r 8`) and TER against the first
          reference (prepare_files.py writes only reference0 for them).
  XSum    rouge-score 0.1.2 RougeScorer(rouge1, rouge2, rougeL, rougeLsum, use_stemmer=True):
          per-pair P/R/F and the mean F1.

Outputs that are scored: the E2E dev baseline (the shared file: the published fixed point) and,
per task, small made-up systems over the first inputs of the dev files: a reference copied,
words dropped, words shuffled, empty lines, Unicode punctuation and letters mixed in. Each fixture
holds its references and outputs inline (so the C++ tests need no shared data) except the
baseline fixture, which points at the shared files.
"""
import argparse
import csv
import glob
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import numpy as np

WEBNLG_SEEN = ["Airport", "Astronaut", "Building", "City", "ComicsCharacter", "Food", "Monument",
               "SportsTeam", "University", "WrittenWork"]


# ---------------------------------------------------------------- reading the official formats
def read_e2e(path):
    """measure_scores.py read_tsv + read_and_group_tsv with plain-text outputs (fake sources):
    lines stripped, the mojibake fixes applied, references of consecutive equal MRs grouped."""
    with open(path, encoding="utf-8") as fh:
        lines = [line.strip() for line in fh]
    lines[0] = lines[0].replace("\ufeff", "")
    lines = [l.replace("Ł", "£").replace("Â£", "£").replace("Ã©", "é").replace("ã©", "é") for l in lines]
    rows = list(csv.reader([l for l in lines if l]))[1:]
    refs, mrs, current = [], [], None
    for mr, ref in rows:
        if mr != current:
            refs.append([ref])
            mrs.append(mr)
            current = mr
        else:
            refs[-1].append(ref)
    return mrs, refs


def read_webnlg(directory):
    entries = []
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.xml"), recursive=True)):
        for entry in ET.parse(path).getroot().iter("entry"):
            lexes = [lex.text or "" for lex in entry.iter("lex")]
            entries.append({"category": entry.get("category"), "refs": lexes})
    return entries


def read_dart(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return [[a["text"] for a in item["annotations"]] for item in data]


def read_xsum_sample(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------- official WebNLG / DART text steps
def webnlg_reference_text(lex):
    """evaluation.py bleu_ref_files_gen / ter_ref_files_gen, step by step."""
    from unidecode import unidecode
    lex_detokenised = " ".join(re.split(r"(\W)", lex))
    lex_detokenised = " ".join(lex_detokenised.split())
    return unidecode(lex_detokenised.lower())


def webnlg_output_text(line):
    """evaluation.py read_participant (unidecode(line.strip())) then write_to_file."""
    from unidecode import unidecode
    item = unidecode(line.strip())
    lex_detokenised = " ".join(re.split(r"(\W)", unidecode(item.lower())))
    return " ".join(lex_detokenised.split())


def dart_text(text):
    """LoRA gpt2_decode.py post_process(sent, is_tokenize=True, is_lower=True)."""
    sent = text.lower()
    sent = " ".join(re.split(r"(\W)", sent))
    return " ".join(sent.split())


# ---------------------------------------------------------------- the reference scorers
def mteval_scores(mteval, refs, outputs):
    """measure_scores.py run_mteval: the same SGML files, the same Perl call."""
    def write(path, data, file_type):
        sets = [[]]
        for inst_no, inst in enumerate(data):
            inst = inst if isinstance(inst, list) else [inst]
            for ref_no, ref in enumerate(inst):
                if len(sets) <= ref_no:
                    sets.append([""] * inst_no)
                sets[ref_no].append(ref)
            ref_no += 1
            while ref_no < len(sets):
                sets[ref_no].append("")
                ref_no += 1
        with open(path, "w", encoding="utf-8") as fh:
            settype = file_type + "set"
            fh.write('<%s setid="%s" srclang="any" trglang="%s">\n' % (settype, "e2e", "en"))
            for set_no, inst_set in enumerate(sets):
                sysid = file_type + ("" if len(sets) == 1 else "_%d" % set_no)
                fh.write('<doc docid="test" genre="news" origlang="any" sysid="%s">\n<p>\n' % sysid)
                for inst_no, inst in enumerate(inst_set, start=1):
                    fh.write('<seg id="%d">%s</seg>\n' % (inst_no, inst))
                fh.write("</p>\n</doc>\n")
            fh.write("</%s>" % settype)

    with tempfile.TemporaryDirectory(prefix="petl-mteval-") as tmp:
        paths = {k: os.path.join(tmp, "mteval_%s.sgm" % k) for k in ("ref", "sys", "src")}
        write(paths["ref"], refs, "ref")
        write(paths["sys"], outputs, "tst")
        write(paths["src"], [""] * len(outputs), "src")
        out = subprocess.check_output(["perl", mteval, "-r", paths["ref"], "-s", paths["src"], "-t", paths["sys"],
                                       "-f", os.path.join(tmp, "log.txt")], stderr=subprocess.STDOUT, cwd=tmp)
    out = out.decode("utf-8")
    return {"NIST": float(re.search(r"NIST score = ([0-9.]+)", out).group(1)),
            "BLEU": float(re.search(r"BLEU score = ([0-9.]+)", out).group(1))}


def coco_scores(refs, outputs, with_meteor=True):
    """measure_scores.py run_coco_eval: COCOEvalCap.evaluate on inst-<i> ids."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    gts = {"inst-%d" % i: [{"caption": r} for r in rs] for i, rs in enumerate(refs)}
    res = {"inst-%d" % i: [{"caption": o}] for i, o in enumerate(outputs)}
    tokenizer = PTBTokenizer()
    gts, res = tokenizer.tokenize(gts), tokenizer.tokenize(res)
    scores = {}
    scorers = [(Rouge(), "ROUGE_L"), (Cider(), "CIDEr")]
    if with_meteor:
        scorers.insert(0, (Meteor(), "METEOR"))
    for scorer, name in scorers:
        score, _ = scorer.compute_score(gts, res)
        scores[name] = float(score)
    return scores


def multi_bleu(script, refs, outputs, lowercase, n_refs=3):
    with tempfile.TemporaryDirectory(prefix="petl-multibleu-") as tmp:
        files = []
        for k in range(n_refs):
            path = os.path.join(tmp, "ref%d" % k)
            with open(path, "w", encoding="utf-8") as fh:
                for rs in refs:
                    fh.write((rs[k] if k < len(rs) else "") + "\n")
            files.append(path)
        hyp = "".join(o + "\n" for o in outputs).encode("utf-8")
        cmd = ["perl", script] + (["-lc"] if lowercase else []) + files
        out = subprocess.run(cmd, input=hyp, capture_output=True, check=True).stdout.decode("utf-8")
    match = re.search(r"FULL_BLEU = ([0-9.e+-]+)", out)
    return float(match.group(1)) if match else float(re.search(r"BLEU = ([0-9.]+)", out).group(1)) / 100


TER_SEGMENTS = {}


def ter_score(refs, outputs):
    """tercom defaults through sacrebleu's port; per segment the best reference, average length."""
    from sacrebleu.metrics.lib_ter import translation_edit_rate
    from sacrebleu.tokenizers.tokenizer_ter import TercomTokenizer
    tok = TercomTokenizer()
    edits = length = 0.0
    for out, rs in zip(outputs, refs):
        key = (out, tuple(rs))
        if key not in TER_SEGMENTS:  # the same segment again (a subset of a scored set): reuse
            hyp = tok(out.rstrip()).split()
            best, lengths = int(1e16), 0
            for r in rs:
                e, l = translation_edit_rate(hyp, tok(r.rstrip()).split())
                lengths += l
                best = min(best, e)
            TER_SEGMENTS[key] = (best, lengths / len(rs))
        best, avg_length = TER_SEGMENTS[key]
        edits += best
        length += avg_length
    return edits / length if length > 0 else (1.0 if edits > 0 else 0.0)


def meteor_dart(refs, outputs):
    """run_eval_on_dart.sh: java -jar meteor-1.5.jar hyp refs -l en -norm -r 8, with the first
    reference and 7 empty lines per segment."""
    import pycocoevalcap.meteor.meteor as pm
    jar = os.path.join(os.path.dirname(pm.__file__), "meteor-1.5.jar")
    with tempfile.TemporaryDirectory(prefix="petl-meteor-") as tmp:
        hyp, ref = os.path.join(tmp, "hyp"), os.path.join(tmp, "ref")
        with open(hyp, "w", encoding="utf-8") as fh:
            fh.write("".join(o + "\n" for o in outputs))
        with open(ref, "w", encoding="utf-8") as fh:
            for rs in refs:
                fh.write(rs[0] + "\n" + "\n" * 7)
        out = subprocess.check_output(["java", "-Xmx2G", "-jar", jar, hyp, ref, "-l", "en", "-norm", "-r", "8"],
                                      cwd=os.path.dirname(jar)).decode("utf-8")
    return float(re.search(r"Final score:\s+([0-9.]+)", out).group(1))


def rouge_scores(targets, predictions):
    from rouge_score import rouge_scorer
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    per_pair = []
    for t, p in zip(targets, predictions):
        s = scorer.score(t, p)
        per_pair.append({k: [v.precision, v.recall, v.fmeasure] for k, v in s.items()})
    mean = {k: float(np.mean([pp[k][2] for pp in per_pair])) for k in ["rouge1", "rouge2", "rougeL", "rougeLsum"]}
    return per_pair, mean


# ---------------------------------------------------------------- made-up systems
UNICODE_BITS = ["é", "“", "”", "—", "£", "ß", "İ", "K", "😀", "\u00a0", "…", "’s", "ﬁ", "Ω"]


# For the WebNLG / DART fixtures: also final sigmas, characters unidecode turns into several
# characters or into \W ones, an underscore (a \w character), Roman numerals.
D2T_BITS = UNICODE_BITS + ["ΟΔΥΣΣΕΥΣ", "ΣΑΣ.", "½", "ʼ", "Ǆ", "snake_case", "Ⅻ", "№5", "Ł"]


def variants(first_refs, seed, bits=UNICODE_BITS):
    rnd = random.Random(seed)
    out = {"copy_first_reference": list(first_refs)}
    drop, shuffle, empty, uni = [], [], [], []
    for i, ref in enumerate(first_refs):
        words = ref.split()
        kept = [w for w in words if rnd.random() > 0.3]
        drop.append(" ".join(kept))
        mixed = list(words)
        rnd.shuffle(mixed)
        shuffle.append(" ".join(mixed))
        empty.append("" if i % 4 == 0 else ref)
        with_uni = []
        for w in words:
            with_uni.append(w)
            if rnd.random() < 0.2:
                with_uni.append(rnd.choice(bits))
        uni.append(" ".join(with_uni).upper() if i % 5 == 0 else " ".join(with_uni))
    out.update({"words_dropped": drop, "words_shuffled": shuffle, "every_fourth_empty": empty,
                "unicode_mixed_in": uni})
    return out


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    print("wrote", path, os.path.getsize(path), "bytes", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data directory")
    ap.add_argument("--mteval", required=True, help="path of mteval-v13a-sig.pl (tuetschek/e2e-metrics)")
    ap.add_argument("--multi-bleu", required=True, help="path of Moses multi-bleu.perl")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "metrics"))
    ap.add_argument("--inputs", type=int, default=30, help="inputs per made-up fixture")
    ap.add_argument("--only", default="e2e,webnlg,webnlg-dev,dart,dart-dev,text,xsum,ptb,porter",
                    help="comma-separated fixtures to regenerate (webnlg / dart: the made-up systems, "
                         "webnlg-dev / dart-dev: the whole dev sets)")
    ap.add_argument("--all-texts", action="store_true",
                    help="text step: every picked dev text (data_to_text_text_all.json, a check, not a fixture)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    os.makedirs(args.out, exist_ok=True)
    header = {"generated_by": "tools/oracle/metrics_oracle.py"}

    n = args.inputs
    # E2E: the published fixed point on the whole dev set.
    if "e2e" in only:
        write_e2e(args, header, n)
    if "webnlg" in only or "webnlg-dev" in only:
        write_webnlg(args, header, n, "webnlg" in only, "webnlg-dev" in only)
    if "dart" in only or "dart-dev" in only:
        write_dart(args, header, n, "dart" in only, "dart-dev" in only)
    if "text" in only:
        write_text_steps(args, header)
    if "xsum" in only:
        write_xsum(args, header)
    if "ptb" in only:
        write_ptb(args, header)
    if "porter" in only:
        write_porter(args, header)


def write_e2e(args, header, n):
    mrs, refs = read_e2e(os.path.join(args.data, "e2e", "devset.csv"))
    with open(os.path.join(args.data, "e2e", "metrics", "dev_baseline_output.txt"), encoding="utf-8") as fh:
        baseline = [line.strip() for line in fh]
    scores = mteval_scores(args.mteval, refs, baseline)
    scores.update(coco_scores(refs, baseline))
    write_json(os.path.join(args.out, "e2e_dev_baseline.json"),
               dict(header, task="e2e", references_file="e2e/devset.csv",
                    outputs_file="e2e/metrics/dev_baseline_output.txt", scores=scores,
                    published={"BLEU": 0.6925, "NIST": 8.4781, "METEOR": 0.4703, "ROUGE_L": 0.7257, "CIDEr": 2.3987}))

    # E2E made-up systems on the first MRs.
    sub_refs = refs[:n]
    cases = [{"name": "baseline", "outputs": baseline[:n]}]
    cases += [{"name": k, "outputs": v} for k, v in variants([r[0] for r in sub_refs], 9).items()]
    for case in cases:
        s = mteval_scores(args.mteval, sub_refs, case["outputs"])
        s.update(coco_scores(sub_refs, case["outputs"]))
        case["scores"] = s
    write_json(os.path.join(args.out, "e2e_made_up.json"), dict(header, task="e2e", references=sub_refs, cases=cases))



def webnlg_official(script, refs, outputs):
    """BLEU and TER of evaluation.py's files for raw references and outputs."""
    three = [[webnlg_reference_text(r) for r in rs[:3]] for rs in refs]
    hyps = [webnlg_output_text(o) for o in outputs]
    return {"BLEU": multi_bleu(script, three, hyps, lowercase=True), "TER": ter_score(three, hyps)}


def dart_official(script, refs, outputs, with_meteor=True):
    three = [[dart_text(r) for r in rs[:3]] for rs in refs]
    hyps = [dart_text(o) for o in outputs]
    s = {"BLEU": multi_bleu(script, three, hyps, lowercase=False), "TER": ter_score([r[:1] for r in three], hyps)}
    if with_meteor:
        s["METEOR"] = meteor_dart(three, hyps)
    return s


def write_webnlg(args, header, n, made_up, dev):
    # WebNLG dev: first entries, made-up systems with raw texts (the scorer preprocesses).
    entries = read_webnlg(os.path.join(args.data, "webnlg", "dev"))
    w_refs = [e["refs"] for e in entries[:n]]
    cases = [{"name": k, "outputs": v} for k, v in variants([r[0] for r in w_refs], 17, D2T_BITS).items()]
    for case in cases if made_up else []:
        case["scores"] = webnlg_official(args.multi_bleu, w_refs, case["outputs"])
    if made_up:
        write_json(os.path.join(args.out, "webnlg_made_up.json"),
                   dict(header, task="webnlg", references=w_refs, categories=[e["category"] for e in entries[:n]],
                        cases=cases))
    if not dev:
        return
    # The whole dev set (shared data), two systems the test rebuilds from the references.
    full = {}
    for name, outputs in dev_systems([e["refs"] for e in entries]).items():
        full[name] = {}
        for split, keep in (("all", None), ("seen", True), ("unseen", False)):
            pick = [i for i, e in enumerate(entries) if keep is None or (e["category"] in WEBNLG_SEEN) == keep]
            if not pick:  # the 2017 dev set has seen categories only
                continue
            full[name][split] = webnlg_official(args.multi_bleu, [entries[i]["refs"] for i in pick],
                                                [outputs[i] for i in pick])
    write_json(os.path.join(args.out, "webnlg_dev_official.json"),
               dict(header, task="webnlg", references_dir="webnlg/dev", systems=DEV_SYSTEMS, scores=full))


def write_dart(args, header, n, made_up, dev):
    # DART dev: first triplesets.
    all_refs = read_dart(os.path.join(args.data, "dart", "dart-v1.1.1-full-dev.json"))
    d_refs = all_refs[:n]
    cases = [{"name": k, "outputs": v} for k, v in variants([r[-1] for r in d_refs], 23, D2T_BITS).items()]
    if made_up:
        for case in cases:
            case["scores"] = dart_official(args.multi_bleu, d_refs, case["outputs"])
        write_json(os.path.join(args.out, "dart_made_up.json"), dict(header, task="dart", references=d_refs, cases=cases))
    if not dev:
        return
    full = {name: dart_official(args.multi_bleu, all_refs, outputs) for name, outputs in dev_systems(all_refs).items()}
    write_json(os.path.join(args.out, "dart_dev_official.json"),
               dict(header, task="dart", references_file="dart/dart-v1.1.1-full-dev.json", systems=DEV_SYSTEMS,
                    scores=full))


DEV_SYSTEMS = {"last_reference": "each input's last reference, as written",
               "first_reference_thinned": "each input's first reference without every third of its str.split() words"}


def dev_systems(refs):
    return {"last_reference": [rs[-1] if rs else "" for rs in refs],
            "first_reference_thinned": [" ".join(w for i, w in enumerate(rs[0].split()) if i % 3 != 2) if rs else ""
                                        for rs in refs]}


def write_text_steps(args, header):
    """The three text steps on stress strings and on a sample of the distinct WebNLG / DART dev
    texts with characters beyond letters, digits and common punctuation (100 of those with
    non-ASCII characters, 25 of the others; --all-texts takes every one of them)."""
    texts = [r for refs in read_dart(os.path.join(args.data, "dart", "dart-v1.1.1-full-dev.json")) for r in refs]
    texts += [r for e in read_webnlg(os.path.join(args.data, "webnlg", "dev")) for r in e["refs"]]
    plain = re.compile(r"^[A-Za-z0-9 .,'\-()]*$")
    picked = sorted({t for t in texts if not plain.match(t)})
    if not args.all_texts:
        rnd = random.Random(5)
        non_ascii = [t for t in picked if any(ord(c) > 0x7F for c in t)]
        other = [t for t in picked if t not in set(non_ascii)]
        picked = rnd.sample(non_ascii, 100) + rnd.sample(other, 25)
    stress = D2T_BITS + ["  Leading and trailing\t", "ΌΣΟΣ Σ σΣ ΣΣ", "A\u0345Σ", "İstanbul İ", "x\u00a0y\u2028z",
                         "don't — “quoted” … 1,000.5", "tab\tand\x1fseparator", "Ǆemal ǅ ǆ", "ﬁne ß ẞ", "", "   "]
    cases = [{"text": t, "webnlg_reference": webnlg_reference_text(t), "webnlg_output": webnlg_output_text(t),
              "dart": dart_text(t)} for t in stress + picked]
    from importlib.metadata import version
    name = "data_to_text_text_all.json" if args.all_texts else "data_to_text_text.json"
    write_json(os.path.join(args.out, name),
               dict(header, unidecode=version("Unidecode"), python=sys.version.split()[0], cases=cases))


def all_texts(data):
    """Every reference and output text of the shared evaluation data, in a fixed order."""
    texts = []
    for f in ("devset.csv", "trainset.csv"):
        texts += [r for refs in read_e2e(os.path.join(data, "e2e", f))[1] for r in refs]
    with open(os.path.join(data, "e2e", "metrics", "dev_baseline_output.txt"), encoding="utf-8") as fh:
        texts += [line.strip() for line in fh]
    texts += [r for refs in read_dart(os.path.join(data, "dart", "dart-v1.1.1-full-dev.json")) for r in refs]
    for split in ("dev", "train"):
        texts += [r for e in read_webnlg(os.path.join(data, "webnlg", split)) for r in e["refs"]]
    with open(os.path.join(data, "xsum", "train_700_from_test_split.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            texts += [item["summary"], item["document"]]
    return texts


def write_ptb(args, header):
    """The CoreNLP 3.4.1 PTBTokenizer (pycocoevalcap's jar, -preserveLines -lowerCase) on a sample
    of lines: every line whose tokenization needs more than splitting at spaces and punctuation
    marks is likelier to be picked (quotes, brackets, abbreviations, digits, non-ASCII)."""
    import pycocoevalcap.tokenizer.ptbtokenizer as ptb
    jar_dir = os.path.dirname(ptb.__file__)
    # Line breaks of any kind inside a text would split it in the jar's -preserveLines mode.
    lines = list(dict.fromkeys(re.sub(r"[\n\r\v\f\x85\u2028\u2029]", " ", t)
                               for t in all_texts(args.data) if len(t) < 400))
    rnd = random.Random(5)
    tricky = [l for l in lines if re.search(r"[^A-Za-z ,.]|\.[A-Za-z]|[A-Z]\.", l)]
    tricky_set = set(tricky)
    plain = [l for l in lines if l not in tricky_set]
    sample = rnd.sample(tricky, 220) + rnd.sample(plain, 30)
    with tempfile.NamedTemporaryFile("w", delete=False, dir=jar_dir, encoding="utf-8") as fh:
        fh.write("\n".join(sample))
        name = fh.name
    try:
        out = subprocess.check_output(["java", "-cp", "stanford-corenlp-3.4.1.jar", "edu.stanford.nlp.process.PTBTokenizer",
                                       "-preserveLines", "-lowerCase", os.path.basename(name)], cwd=jar_dir,
                                      stderr=subprocess.DEVNULL).decode("utf-8")
    finally:
        os.remove(name)
    tokens = out.split("\n")[:len(sample)]
    write_json(os.path.join(args.out, "ptb_tokenizer.json"),
               dict(header, tool="stanford-corenlp-3.4.1.jar PTBTokenizer -preserveLines -lowerCase (one run)",
                    lines=sample, tokens=tokens))


def write_porter(args, header):
    """nltk's PorterStemmer() (rouge-score's) on words of the shared data: a sample is committed;
    every distinct word is checked here and the count printed."""
    from nltk.stem import porter
    from rouge_score import tokenize
    stemmer = porter.PorterStemmer()
    words = set()
    for t in all_texts(args.data):
        words.update(w for w in tokenize.tokenize(t, None) if len(w) > 3)
    words = sorted(words)
    stems = {w: stemmer.stem(w) for w in words}
    print("porter: %d distinct words of length > 3 in the shared data" % len(words), file=sys.stderr)
    with open(os.path.join(tempfile.gettempdir(), "petl_porter_all.tsv"), "w", encoding="utf-8") as fh:
        for w in words:
            fh.write("%s\t%s\n" % (w, stems[w]))
    rnd = random.Random(3)
    changed = [w for w in words if stems[w] != w]
    sample = sorted(set(rnd.sample(changed, 1500) + rnd.sample(words, 300) +
                        ["skies", "dying", "lying", "tying", "news", "innings", "outings", "cannings", "howe",
                         "proceed", "exceed", "succeed", "flies", "died", "generalization", "happily", "logically",
                         "hopefully", "analogies", "feeling", "agreed", "conditional", "rational"]))
    write_json(os.path.join(args.out, "porter_stemmer.json"),
               dict(header, tool="nltk %s PorterStemmer() (mode NLTK_EXTENSIONS)" % __import__("nltk").__version__,
                    words=sample, stems=[stemmer.stem(w) for w in sample]))


def write_xsum(args, header):
    # XSum: the ten sample articles' summaries, made-up predictions.
    sample = read_xsum_sample(os.path.join(args.data, "xsum", "sample.json"))
    targets = [s["summary"] for s in sample]
    first_sentences = [re.split(r"(?<=[.!?])\s", s["document"].strip())[0] for s in sample]
    predictions = {"lead_sentence": first_sentences,
                   "two_lines": [a + "\n" + b for a, b in zip(first_sentences, targets)]}
    predictions.update(variants(targets, 31))
    cases = []
    for name, preds in predictions.items():
        per_pair, mean = rouge_scores(targets, preds)
        cases.append({"name": name, "outputs": preds, "per_pair": per_pair, "mean_f1": mean})
    write_json(os.path.join(args.out, "xsum_made_up.json"), dict(header, task="xsum", references=[[t] for t in targets],
                                                                cases=cases))


if __name__ == "__main__":
    main()
