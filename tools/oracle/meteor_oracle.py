#!/usr/bin/env python3
"""METEOR 1.5 oracle: scores texts with meteor-1.5.jar exactly as pycocoevalcap 1.2 (and through it
the E2E challenge scorer) runs it, and writes the committed fixtures of tests/fixtures/meteor/.

    "$(tools/oracle/setup_venv.sh)" tools/oracle/meteor_oracle.py --data /path/to/shared/data \
        --out tests/fixtures/meteor

Needs `java` on PATH (Debian: default-jre-headless; the jar and the PTB tokenizer are Java) and
pycocoevalcap 1.2 in the venv (tools/oracle/requirements.txt).

What it writes:
  <name>.json[.gz]   texts as the jar receives them (hyps, refs per hyp), the jar's segment
                     statistics (SCORE lines), segment scores and corpus score (EVAL lines);
  normalizer.tsv     raw line -> Normalizer.normalizeLine(line, en, keep punctuation).toLowerCase();
  stemmer.tsv        word -> Snowball englishStemmer, both asked of the jar's own classes;
  data/              the subset of METEOR's data that can matter for these texts (function words,
                     nonbreaking prefixes, synonym entries, paraphrase entries), so CI can score
                     the fixtures without the jar and the 60 MB paraphrase table.

The E2E fixture reproduces the official E2E scorer's METEOR: the baseline's dev outputs against
devset.csv references grouped per MR in order of first appearance, both passed through the COCO
PTB tokenizer first (pycocoevalcap.eval.COCOEvalCap does that before every scorer).
"""
import argparse
import csv
import gzip
import io
import json
import os
import random
import subprocess
import zipfile

import pycocoevalcap.meteor.meteor as meteor_module
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

METEOR_DIR = os.path.join(os.path.dirname(os.path.abspath(meteor_module.__file__)))
JAR = os.path.join(METEOR_DIR, 'meteor-1.5.jar')
PARAPHRASES = os.path.join(METEOR_DIR, 'data', 'paraphrase-en.gz')
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'MeteorProbe.java')
TOOL = 'pycocoevalcap 1.2 meteor-1.5.jar - - -stdio -l en -norm'


class RecordingMeteor(Meteor):
    """pycocoevalcap's Meteor, keeping the SCORE statistics lines it sends back to EVAL."""

    def __init__(self):
        super().__init__()
        self.stats = []

    def _stat(self, hypothesis_str, reference_list):
        line = super()._stat(hypothesis_str, reference_list)
        self.stats.append(line)
        return line


def score(hyps, refs):
    assert len(hyps) == len(refs) and all(len(r) > 0 for r in refs)
    meteor = RecordingMeteor()
    gts = {i: refs[i] for i in range(len(hyps))}
    res = {i: [hyps[i]] for i in range(len(hyps))}
    corpus, segments = meteor.compute_score(gts, res)
    stats = meteor.stats
    del meteor
    return corpus, segments, stats


def ptb_tokenize(texts):
    captions = {i: [{'caption': t}] for i, t in enumerate(texts)}
    tokenized = PTBTokenizer().tokenize(captions)
    return [tokenized[i][0] for i in range(len(texts))]


def read_e2e(data_dir):
    """Baseline outputs and references grouped per MR, in order of first appearance, with the E2E
    scorer's character repairs (measure_scores.read_tsv)."""
    with open(os.path.join(data_dir, 'e2e', 'devset.csv'), encoding='utf-8') as fh:
        lines = [l.strip() for l in fh]
    lines[0] = lines[0].replace('\ufeff', '')
    for bad, good in (('Ł', '£'), ('Â£', '£'), ('Ã©', 'é'), ('ã©', 'é')):
        lines = [l.replace(bad, good) for l in lines]
    rows = list(csv.reader([l for l in lines if l]))[1:]
    order, refs = [], {}
    for mr, ref in rows:
        if mr not in refs:
            order.append(mr)
            refs[mr] = []
        refs[mr].append(ref)
    with open(os.path.join(data_dir, 'e2e', 'metrics', 'dev_baseline_output.txt'), encoding='utf-8') as fh:
        hyps = [l.strip() for l in fh]
    assert len(hyps) == len(order), (len(hyps), len(order))
    return hyps, [refs[mr] for mr in order]


def degrade(text, rng):
    words = text.split(' ')
    out = []
    for w in words:
        r = rng.random()
        if r < 0.12:
            continue  # dropped
        if r < 0.2:
            out.append(w + 's')  # a stem-level change
        elif r < 0.25:
            out.append({'restaurant': 'eatery', 'cheap': 'inexpensive', 'near': 'close to',
                        'family': 'household', 'food': 'meals', 'located': 'situated',
                        'centre': 'center', 'high': 'great'}.get(w, w))
        else:
            out.append(w)
    if len(out) > 3 and rng.random() < 0.5:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return ' '.join(out)


UNICODE_CASES = [
    ("The café “Le Petit” serves crème brûlée — it’s near the Musée d’Orsay.",
     ["Le Petit is a café near the Musée d'Orsay serving crème brûlée.",
      "Near Musee d'Orsay, the cafe \"Le Petit\" serves creme brulee."]),
    ("Straße, Ærøskøbing and Ōsaka… all in one sentence!",
     ["Strasse, Aeroskobing and Osaka: all in one sentence.", "Straße and Ōsaka… in a sentence"]),
    ("Москва — столица России.", ["Москва является столицей России.", "Столица России – Москва"]),
    ("東京は日本の首都です。 Tokyo is the capital.", ["Tokyo is the capital of Japan.", "東京 is Japan's capital"]),
    ("I ❤️ pizza 🍕 and emoji 😀 a lot", ["I love pizza and emoji a lot", "pizza 🍕 is loved"]),
    ("The U.S.-based firm, Acme Inc. Ltd., earned $1,000.50 in 1990's Q3.",
     ["Acme Inc., a US-based firm, earned 1,000.50 dollars in the 1990s.",
      "The U.S. firm Acme earned $1000.50 in Q3 of the 1990's."]),
    ("Mr. Smith didn't say 'rock 'n' roll' -- he said ``jazz''.",
     ["Mr Smith did not say rock and roll; he said jazz.", "Smith didn't say \"rock 'n' roll\", he said jazz."]),
    ("tabs\tand\u00a0non-breaking\u2009spaces   collapse", ["tabs and non-breaking spaces collapse", "spaces collapse"]),
    ("wait... what?! no.... way", ["wait, what? no way", "what... no way!"]),
    ("e-mail the co-operative's well-known e.g. i.e. a.m. p.m. No. 5",
     ["email the cooperative's well known example", "e-mail the co-operative, No. 5, at 5 p.m."]),
    ("ÀÉÎÕÜ ÇÑ Ÿ ŠŽ œ ß ĳ", ["àéîõü çñ ÿ šž", "AEIOU CN"]),
    ("a ||| b ||| c", ["a b c", "a | b | c"]),
    ("", ["An empty hypothesis scores zero."]),
    ("One hypothesis", [""]),
    ("   ", ["spaces only"]),
    ("Ünïcödé and ASCII mixed: naïve coöperation façade", ["naive cooperation facade", "Unicode and ASCII mixed"]),
]


def dart_like(data_dir, rng, count):
    with open(os.path.join(data_dir, 'dart', 'dart-v1.1.1-full-dev.json'), encoding='utf-8') as fh:
        entries = json.load(fh)
    hyps, refs = [], []
    for e in entries:
        texts = [a['text'] for a in e['annotations'] if a['text'].strip()]
        if len(texts) < 2:
            continue
        hyp = texts[0]
        if rng.random() < 0.5:
            hyp = degrade(hyp, rng)
        hyps.append(hyp)
        refs.append(texts[1:])
        if len(hyps) == count:
            break
    return hyps, refs


def webnlg_like(data_dir, rng, count):
    with open(os.path.join(data_dir, 'webnlg', 'dev.json'), encoding='utf-8') as fh:
        data = json.load(fh)
    entries = data['entries'] if isinstance(data, dict) and 'entries' in data else data
    hyps, refs = [], []
    for e in entries:
        item = list(e.values())[0] if isinstance(e, dict) and len(e) == 1 else e
        lex = item.get('lexicalisations') or item.get('lex') or []
        texts = [l['lex'] if isinstance(l, dict) else l for l in lex]
        texts = [t for t in texts if isinstance(t, str) and t.strip()]
        if len(texts) < 2:
            continue
        hyp = degrade(texts[-1], rng) if rng.random() < 0.6 else texts[-1]
        hyps.append(hyp)
        refs.append(texts[:-1])
        if len(hyps) == count:
            break
    return hyps, refs


def score_line_parts(hyp, refs):
    """(hypothesis, references) as Meteor.scoreStdio gets them from pycocoevalcap's SCORE line."""
    hyp = hyp.replace('|||', '').replace('  ', ' ')
    parts = ' ||| '.join(('SCORE', ' ||| '.join(refs), hyp)).split('|||')
    while parts and parts[-1] == '':
        parts.pop()
    java_trim = lambda t: t.strip(''.join(chr(c) for c in range(33)))
    return java_trim(parts[-1]), [java_trim(p) for p in parts[1:-1]]


def probe(mode, lines):
    text = '\n'.join(lines) + '\n'
    out = subprocess.run(['java', '-cp', JAR, PROBE, mode], input=text.encode('utf-8'),
                         stdout=subprocess.PIPE, check=True).stdout.decode('utf-8')
    result = out.split('\n')[:-1]
    assert len(result) == len(lines), (len(result), len(lines))
    return result


def write_fixture(out_dir, name, hyps, refs, note, compress=False):
    corpus, segments, stats = score(hyps, refs)
    doc = {'name': name, 'tool': TOOL, 'note': note, 'corpus_score': corpus,
           'corpus_score_printed': repr(corpus), 'hyps': hyps, 'refs': refs,
           'segment_scores': segments, 'segment_stats': stats}
    text = json.dumps(doc, ensure_ascii=False, indent=0)
    path = os.path.join(out_dir, name + ('.json.gz' if compress else '.json'))
    if compress:
        with gzip.GzipFile(path, 'wb', mtime=0) as fh:
            fh.write(text.encode('utf-8'))
    else:
        with open(path, 'w', encoding='utf-8') as fh:
            fh.write(text + '\n')
    print('%-28s %4d segments  corpus %.4f (%r)' % (name, len(hyps), corpus, corpus))
    return hyps, refs


# ---- the data subset: every entry that can match a word or phrase of the fixture texts

MORPH_SUFFIXES = [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                  ("men", "man"), ("ies", "y"), ("s", ""), ("ies", "y"), ("es", "e"), ("es", ""),
                  ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""), ("er", ""), ("est", ""),
                  ("er", "e"), ("est", "e")]


def morph_candidates(word):
    """Every key SynonymDictionary.morph may look up for `word` (a superset is harmless)."""
    out = set()
    for suffix, ending in MORPH_SUFFIXES:
        if word.endswith(suffix):
            base = word[:len(word) - len(suffix)] + ending
            out.add(base)
            out.add(base + 'ful')
    return out


def write_data_subset(out_dir, vocab, pairs):
    data_dir = os.path.join(out_dir, 'data')
    os.makedirs(os.path.join(data_dir, 'synonym'), exist_ok=True)
    os.makedirs(os.path.join(data_dir, 'function'), exist_ok=True)
    os.makedirs(os.path.join(data_dir, 'nonbreaking'), exist_ok=True)
    with zipfile.ZipFile(JAR) as jar:
        for member in ('function/english.words', 'nonbreaking/english.prefixes', 'synonym/COPYING.WORDNET'):
            with open(os.path.join(data_dir, member), 'wb') as fh:
                fh.write(jar.read(member))
        exceptions = jar.read('synonym/english.exceptions').decode('utf-8').split('\n')
        synsets = jar.read('synonym/english.synsets').decode('utf-8').split('\n')
    # exceptions: pairs of lines (base, forms); keep the pairs with a form among the words
    kept_exc, bases = [], set()
    for i in range(0, len(exceptions) - 1, 2):
        base, forms = exceptions[i], exceptions[i + 1]
        if any(f in vocab for f in forms.split()):
            kept_exc += [base, forms]
            bases.add(base)
    keys = set(vocab) | bases
    for w in vocab:
        keys |= morph_candidates(w)
    kept_syn = []
    for i in range(0, len(synsets) - 1, 2):
        if synsets[i] in keys:
            kept_syn += [synsets[i], synsets[i + 1]]
    with open(os.path.join(data_dir, 'synonym', 'english.exceptions'), 'w', encoding='utf-8') as fh:
        fh.write(''.join(l + '\n' for l in kept_exc))
    with open(os.path.join(data_dir, 'synonym', 'english.synsets'), 'w', encoding='utf-8') as fh:
        fh.write(''.join(l + '\n' for l in kept_syn))
    # paraphrases: triples of lines (probability, phrase, paraphrase). An entry can only produce a
    # match for an aligned (hypothesis, reference) pair holding the phrase on one side and the
    # paraphrase on the other, so only such entries are kept (in file order).
    hyp_index, ref_index = {}, {}
    for pair_id, (hyp_words, ref_words) in enumerate(pairs):
        for words, index in ((hyp_words, hyp_index), (ref_words, ref_index)):
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + 12) + 1):
                    index.setdefault(tuple(words[i:j]), set()).add(pair_id)

    def can_match(a, b):
        return bool(ref_index.get(a, set()) & hyp_index.get(b, set())) or \
            bool(hyp_index.get(a, set()) & ref_index.get(b, set()))
    kept_par = 0
    with gzip.open(PARAPHRASES, 'rt', encoding='utf-8') as src, \
            gzip.GzipFile(os.path.join(data_dir, 'paraphrase-en.gz'), 'wb', mtime=0) as raw:
        dst = io.TextIOWrapper(raw, encoding='utf-8', newline='\n')
        while True:
            prob = src.readline()
            if not prob:
                break
            ref, par = src.readline(), src.readline()
            if can_match(tuple(ref.split()), tuple(par.split())):
                dst.write(prob + ref + par)
                kept_par += 1
        dst.flush()
        dst.detach()
    print('data subset: %d synonym entries, %d exception entries, %d paraphrases'
          % (len(kept_syn) // 2, len(kept_exc) // 2, kept_par))


STEM_CASES = ("caresses ponies ties caress cats feed agreed disabled matting mating meeting milling "
              "messing meetings happy sky conditional rational valenci hesitanci digitizer "
              "conformabli radicalli differentli vileli analogousli vietnamization predication "
              "operator feudalism decisiveness hopefulness callousness formaliti sensitiviti "
              "sensibiliti triplicate formative formalize electriciti electrical hopeful goodness "
              "revival allowance inference airliner gyroscopic adjustable defensible irritant "
              "replacement adjustment dependent adoption homologou communism activate angulariti "
              "homologous effective bowdlerize probate rate cease controll roll generously "
              "generate generation general communication arsenal skis skies dying lying tying "
              "idly gently ugly early only singly news howe atlas cosmos bias andes inning innings "
              "outing outings canning cannings herring herrings earring earrings proceed proceeding "
              "exceed exceeded succeed succeeding 'tis o'neil dog's dogs' yelled youth yelling "
              "cry crying enjoy bye by y yyy apostrophe' ''s 's iss ied ies tied cries "
              "consign consigned consigning consignment consist consisted consistency consistent "
              "knack knackered knackeries knavish kneaded kneel knelt knew knife knight "
              "fluently luxuriating luxuriously abominably abruptness absurdity "
              "restaurant restaurants riverside centre city family-friendly friendly cheap cheaply "
              "priced pricing rating rated customer customers serves serving served located "
              "coffee shop shops eatery pub pubs near nearby children kids area £20-25 1,000.5 "
              "café naïve façade straße москва 東京 ❤️ 😀ies 😀s x😀ying 😀😀ed 𝔘nited").split()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='../shared/data', help='the shared data directory')
    ap.add_argument('--out', default='tests/fixtures/meteor', help='fixture directory to write')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(20261123)
    all_texts = []

    hyps_raw, refs_raw = read_e2e(args.data)
    flat = [r for rs in refs_raw for r in rs]
    tok = ptb_tokenize(hyps_raw + flat)
    hyps, pos = tok[:len(hyps_raw)], len(hyps_raw)
    refs = []
    for rs in refs_raw:
        refs.append(tok[pos:pos + len(rs)])
        pos += len(rs)
    fixtures = []
    fixtures.append(write_fixture(args.out, 'e2e_dev_baseline', hyps, refs,
                                  'E2E dev baseline outputs vs devset.csv references grouped per MR in order '
                                  'of first appearance, both PTB-tokenized as COCOEvalCap does '
                                  '(official E2E METEOR 0.4703)', compress=True))
    n = 60
    fixtures.append(write_fixture(args.out, 'e2e_degraded', [degrade(h, rng) for h in hyps[:n]], refs[:n],
                                  'first 60 E2E baseline outputs with words dropped, inflected, swapped, '
                                  'replaced by synonyms and paraphrases', compress=True))
    order = list(range(n))
    rng.shuffle(order)
    fixtures.append(write_fixture(args.out, 'e2e_shuffled', [hyps[i] for i in order], refs[:n],
                                  'first 60 E2E baseline outputs in shuffled order (wrong references)', compress=True))
    empties = [h if rng.random() < 0.7 else '' for h in hyps[n:2 * n]]
    fixtures.append(write_fixture(args.out, 'e2e_empty_lines', empties, refs[n:2 * n],
                                  'E2E baseline outputs 61-120 with about 30% replaced by empty lines', compress=True))
    fixtures.append(write_fixture(args.out, 'e2e_raw_text', hyps_raw[2 * n:3 * n], refs_raw[2 * n:3 * n],
                                  'E2E baseline outputs 121-180 and references as raw text (no PTB '
                                  'tokenization): the normalizer sees punctuation, case and £', compress=True))
    fixtures.append(write_fixture(args.out, 'unicode', [h for h, _ in UNICODE_CASES], [r for _, r in UNICODE_CASES],
                                  'hand-written unicode, punctuation, whitespace and empty-line cases'))
    h, r = webnlg_like(args.data, rng, 150)
    fixtures.append(write_fixture(args.out, 'webnlg_like', h, r,
                                  'WebNLG dev lexicalisations: the last one (half degraded) against the others'))
    h, r = dart_like(args.data, rng, 150)
    fixtures.append(write_fixture(args.out, 'dart_like', h, r,
                                  'DART dev annotations: the first one (half degraded) against the others'))
    for hs, rs in fixtures:
        all_texts += hs
        all_texts += [x for refs_ in rs for x in refs_]

    # normalizer and stemmer fixtures, asked of the jar's own classes
    norm_cases = [h for h, _ in UNICODE_CASES] + [x for _, rs in UNICODE_CASES for x in rs] + hyps_raw[:60]
    norm_cases = [c for c in norm_cases if '\n' not in c]
    normalized = probe('norm', norm_cases)
    with open(os.path.join(args.out, 'normalizer.tsv'), 'w', encoding='utf-8') as fh:
        fh.write('# raw line <TAB> Normalizer.normalizeLine(line, english, keep punctuation).toLowerCase()\n')
        for raw, norm in zip(norm_cases, normalized):
            fh.write(raw.replace('\t', '\\t') + '\t' + norm + '\n')

    # every aligned (hypothesis, reference) pair, as the jar splits and normalizes the SCORE line
    pair_texts = []
    for hs, rs in fixtures:
        for hyp, refs_ in zip(hs, rs):
            parts = score_line_parts(hyp, refs_)
            for ref in parts[1]:
                pair_texts.append((parts[0], ref))
    flat_pairs = probe('norm', [t for pair in pair_texts for t in pair])
    pairs = [(flat_pairs[2 * k].split(), flat_pairs[2 * k + 1].split()) for k in range(len(pair_texts))]
    vocab_lines = probe('norm', [t.replace('\n', ' ') for t in all_texts])
    vocab = set()
    for line in vocab_lines:
        vocab.update(line.split())
    stem_words = sorted(set(STEM_CASES) | vocab)
    stems = probe('stem', stem_words)
    with open(os.path.join(args.out, 'stemmer.tsv'), 'w', encoding='utf-8') as fh:
        fh.write('# word <TAB> org.tartarus.snowball.ext.englishStemmer (meteor-1.5.jar)\n')
        for w, s in zip(stem_words, stems):
            fh.write(w + '\t' + s + '\n')
    print('normalizer cases %d, stemmer cases %d, vocabulary %d' % (len(norm_cases), len(stem_words), len(vocab)))
    write_data_subset(args.out, vocab, pairs)


if __name__ == '__main__':
    main()
