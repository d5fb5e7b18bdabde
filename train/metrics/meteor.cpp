// METEOR 1.5 scorer: the -stdio SCORE/EVAL protocol as pycocoevalcap drives it
// (edu/cmu/meteor/scorer/MeteorScorer.java and MeteorStats.java, Meteor.java scoreStdio).
#include "train/metrics/meteor.h"

#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "tensor/error.h"
#include "train/metrics/meteor_align.h"
#include "train/metrics/meteor_data.h"
#include "train/metrics/meteor_normalize.h"
#include "train/metrics/meteor_paraphrase.h"
#include "train/metrics/meteor_stem.h"
#include "train/metrics/meteor_synonyms.h"
#include "train/metrics/meteor_text.h"

namespace petl::metrics {

using namespace meteor;
namespace fs = std::filesystem;

namespace {

// Task "default" = "rank" for English (Constants.PARAM_RANK / WEIGHT_RANK).
constexpr double kAlpha = 0.85, kBeta = 0.20, kGamma = 0.60, kDelta = 0.75;
constexpr double kModuleWeights[kModules] = {1.0, 0.6, 0.8, 0.6};

// A resource of the jar, read from the jar or from the directory it was extracted to.
struct Resources {
  fs::path jar;  // empty when the files are extracted
  fs::path dir;

  std::string read(const std::string& member) const {
    if (!jar.empty()) return read_zip_member(jar, member);
    const fs::path file = dir / member;
    PETL_CHECK(fs::exists(file), "METEOR data: missing ", file.string(),
               " (give the directory holding meteor-1.5.jar, or its extracted ", member, ")");
    return read_binary_file(file);
  }
};

Resources find_resources(const fs::path& dir) {
  PETL_CHECK(!dir.empty(), "METEOR data: no data directory given (set PETL_METEOR_DATA to the "
                           "directory holding meteor-1.5.jar and paraphrase-en.gz; see docs/meteor.md)");
  PETL_CHECK(fs::is_directory(dir), "METEOR data: ", dir.string(), " is not a directory");
  for (const char* name : {"meteor-1.5.jar", "meteor.jar"})
    if (fs::exists(dir / name)) return {dir / name, dir};
  PETL_CHECK(fs::exists(dir / "function" / "english.words"), "METEOR data: ", dir.string(),
             " holds neither meteor-1.5.jar nor the extracted function/english.words");
  return {{}, dir};
}

fs::path find_paraphrases(const fs::path& dir) {
  for (const fs::path& p : {dir / "paraphrase-en.gz", dir / "data" / "paraphrase-en.gz"})
    if (fs::exists(p)) return p;
  throw Error(detail::concat("METEOR data: no paraphrase-en.gz in ", dir.string(), " or ",
                             (dir / "data").string(), " (pycocoevalcap ships it in meteor/data/)"));
}

// Java's String.split("\\|\\|\\|") with trailing empty strings removed.
std::vector<std::string> split_bars(const std::string& line) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (true) {
    const size_t at = line.find("|||", i);
    if (at == std::string::npos) break;
    parts.push_back(line.substr(i, at - i));
    i = at + 3;
  }
  parts.push_back(line.substr(i));
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

// Python's str.replace(old, new): left to right, non-overlapping.
std::string py_replace(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t i = 0;
  while (true) {
    const size_t at = s.find(from, i);
    if (at == std::string::npos) break;
    out.append(s, i, at - i);
    out += to;
    i = at + from.size();
  }
  out.append(s, i, std::string::npos);
  return out;
}

}  // namespace

void MeteorStats::add(const MeteorStats& o) {
  test_length += o.test_length;
  reference_length += o.reference_length;
  test_function_words += o.test_function_words;
  reference_function_words += o.reference_function_words;
  test_total_matches += o.test_total_matches;
  reference_total_matches += o.reference_total_matches;
  auto add_vec = [](std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() < b.size()) a.resize(b.size(), 0.0);
    for (size_t i = 0; i < b.size(); ++i) a[i] += b[i];
  };
  add_vec(test_content_matches, o.test_content_matches);
  add_vec(reference_content_matches, o.reference_content_matches);
  add_vec(test_function_matches, o.test_function_matches);
  add_vec(reference_function_matches, o.reference_function_matches);
  // a perfect single-chunk segment adds no chunk (MeteorStats.addStats)
  if (!(o.test_total_matches == o.test_length && o.reference_total_matches == o.reference_length &&
        o.chunks == 1))
    chunks += o.chunks;
  test_word_matches += o.test_word_matches;
  reference_word_matches += o.reference_word_matches;
}

struct Meteor::Impl {
  MeteorModules modules;
  fs::path data_dir;
  Normalizer normalizer{""};
  std::unordered_set<std::u32string> function_words;
  SynonymDictionary synonyms;
  fs::path paraphrase_path;
  ParaphraseTable paraphrases;
  WordSet paraphrase_vocabulary;  // words the loaded table was filtered by
  bool paraphrases_loaded = false;
  std::unordered_map<std::u32string, WordKeys> keys;       // per distinct word
  std::unordered_map<std::string, std::vector<std::u32string>> normalized;  // per distinct text

  // Normalizer.normalizeLine(text, en, keep punctuation), lower-cased, split (MeteorScorer).
  const std::vector<std::u32string>& words_of(const std::string& text) {
    auto it = normalized.find(text);
    if (it != normalized.end()) return it->second;
    const std::u32string line = java_lower(normalizer.normalize(to_u32(text, "METEOR input")));
    return normalized.emplace(text, java_tokens(line)).first->second;
  }

  const WordKeys& keys_of(const std::u32string& word) {
    auto it = keys.find(word);
    if (it != keys.end()) return it->second;
    WordKeys k;
    k.hash = java_hash(word);
    if (modules.stem) k.stem_hash = java_hash(snowball_english_stem(word));
    if (modules.synonym) k.synsets = synonyms.synsets_with_base_forms(word);
    if (modules.paraphrase) k.paraphrase_id = paraphrases.id(to_utf8(word));
    k.function_word = function_words.count(word) > 0;
    return keys.emplace(word, std::move(k)).first->second;
  }

  // The paraphrase table filtered to the words of `texts` (re-read when new words appear; the
  // word keys cached so far stay valid only if the table is unchanged, so they are dropped).
  void prepare_paraphrases(const std::vector<const std::string*>& texts) {
    if (!modules.paraphrase) return;
    WordSet needed;
    for (const auto* t : texts)
      for (const auto& w : words_of(*t)) {
        std::string u = to_utf8(w);
        if (!paraphrase_vocabulary.count(u)) needed.insert(std::move(u));
      }
    if (paraphrases_loaded && needed.empty()) return;
    paraphrase_vocabulary.insert(needed.begin(), needed.end());
    paraphrases = ParaphraseTable(paraphrase_path, paraphrase_vocabulary);
    paraphrases_loaded = true;
    keys.clear();
  }

  MeteorStats stats_for(const std::vector<std::u32string>& test, const std::vector<std::u32string>& ref) {
    std::vector<const WordKeys*> t, r;
    for (const auto& w : test) t.push_back(&keys_of(w));
    for (const auto& w : ref) r.push_back(&keys_of(w));
    const std::array<bool, kModules> enabled = {true, modules.stem, modules.synonym, modules.paraphrase};
    const AlignmentCounts c = align(t, r, enabled, modules.paraphrase ? &paraphrases : nullptr);
    MeteorStats s;
    s.test_length = static_cast<double>(test.size());
    s.reference_length = static_cast<double>(ref.size());
    s.test_function_words = c.function_words1;
    s.reference_function_words = c.function_words2;
    for (int m = 0; m < kModules; ++m) {
      s.test_content_matches.push_back(c.content1[m]);
      s.reference_content_matches.push_back(c.content2[m]);
      s.test_function_matches.push_back(c.function1[m]);
      s.reference_function_matches.push_back(c.function2[m]);
      s.test_total_matches += c.content1[m];
      s.test_total_matches += c.function1[m];
      s.reference_total_matches += c.content2[m];
      s.reference_total_matches += c.function2[m];
      s.test_word_matches += c.content1[m];
      s.test_word_matches += c.function1[m];
      s.reference_word_matches += c.content2[m];
      s.reference_word_matches += c.function2[m];
    }
    s.chunks = c.chunks;
    return s;
  }

  // The SCORE line as pycocoevalcap builds it and Meteor.scoreStdio splits it.
  std::pair<std::string, std::vector<std::string>> score_line_parts(const std::string& hyp,
                                                                    const std::vector<std::string>& refs) {
    PETL_CHECK(!refs.empty(), "METEOR: a hypothesis needs at least one reference");
    auto check_line = [](const std::string& s) {
      PETL_CHECK(s.find('\n') == std::string::npos && s.find('\r') == std::string::npos,
                 "METEOR: a text contains a line break, which the jar's one-line protocol cannot carry: '",
                 s, "'");
    };
    const std::string clean_hyp = py_replace(py_replace(hyp, "|||", ""), "  ", " ");
    std::string line = "SCORE";
    for (const auto& r : refs) {
      check_line(r);
      line += " ||| " + r;
    }
    check_line(clean_hyp);
    line += " ||| " + clean_hyp;
    auto parts = split_bars(line);
    PETL_CHECK(parts.size() >= 3, "METEOR: the SCORE line '", line,
               "' has no hypothesis and reference after splitting on |||");
    auto trim = [](const std::string& s) { return to_utf8(java_trim(to_u32(s, "METEOR input"))); };
    std::vector<std::string> ref_texts;
    for (size_t i = 1; i + 1 < parts.size(); ++i) ref_texts.push_back(trim(parts[i]));
    return {trim(parts.back()), ref_texts};
  }

  MeteorStats best_stats(const std::string& hyp_text, const std::vector<std::string>& ref_texts) {
    const auto& test = words_of(hyp_text);
    MeteorStats best;
    double best_score = -1;
    for (const auto& r : ref_texts) {
      MeteorStats s = stats_for(test, words_of(r));
      const double sc = score(s);
      if (sc > best_score) best = std::move(s), best_score = sc;  // first best reference wins
    }
    return best;
  }

  // MeteorScorer.computeMetrics, operation for operation.
  static double score(const MeteorStats& s) {
    const size_t n = s.test_content_matches.size();
    double test_weighted_matches = 0, reference_weighted_matches = 0;
    const double test_weighted_length =
        (kDelta * (s.test_length - s.test_function_words)) + ((1.0 - kDelta) * s.test_function_words);
    const double reference_weighted_length = (kDelta * (s.reference_length - s.reference_function_words)) +
                                             ((1.0 - kDelta) * s.reference_function_words);
    for (size_t i = 0; i < n; ++i) test_weighted_matches += s.test_content_matches[i] * kModuleWeights[i] * kDelta;
    for (size_t i = 0; i < n; ++i)
      reference_weighted_matches += s.reference_content_matches[i] * kModuleWeights[i] * kDelta;
    for (size_t i = 0; i < n; ++i)
      test_weighted_matches += s.test_function_matches[i] * kModuleWeights[i] * (1.0 - kDelta);
    for (size_t i = 0; i < n; ++i)
      reference_weighted_matches += s.reference_function_matches[i] * kModuleWeights[i] * (1.0 - kDelta);
    const double precision = test_weighted_matches / test_weighted_length;
    const double recall = reference_weighted_matches / reference_weighted_length;
    // Fmean = P R / (alpha P + (1 - alpha) R), written as the jar writes it
    const double fmean = 1.0 / (((1.0 - kAlpha) / precision) + (kAlpha / recall));
    // fragmentation = chunks / matched words (mean of both sides); none for a perfect match
    double frag;
    if (s.test_total_matches == s.test_length && s.reference_total_matches == s.reference_length &&
        s.chunks == 1)
      frag = 0;
    else
      frag = s.chunks / ((s.test_word_matches + s.reference_word_matches) / 2);
    const double penalty = kGamma * std::pow(frag, kBeta);
    const double score = fmean * (1.0 - penalty);
    if (std::isnan(score)) return 0;
    return std::max(score, 0.0);
  }
};

Meteor::Meteor(const fs::path& data_dir, MeteorModules modules) : impl_(std::make_unique<Impl>()) {
  impl_->modules = modules;
  impl_->data_dir = data_dir;
  const Resources res = find_resources(data_dir);
  impl_->normalizer = Normalizer(res.read("nonbreaking/english.prefixes"));
  {
    const std::string words = res.read("function/english.words");
    size_t pos = 0;
    while (pos < words.size()) {  // one word a line (BufferedReader.readLine)
      size_t end = words.find_first_of("\r\n", pos);
      if (end == std::string::npos) end = words.size();
      impl_->function_words.insert(to_u32(std::string_view(words).substr(pos, end - pos), "function/english.words"));
      pos = end + 1;
      if (end < words.size() && words[end] == '\r' && pos < words.size() && words[pos] == '\n') ++pos;
    }
  }
  if (modules.synonym)
    impl_->synonyms = SynonymDictionary(res.read("synonym/english.exceptions"),
                                        res.read("synonym/english.synsets"),
                                        (res.jar.empty() ? data_dir / "synonym" : res.jar).string());
  if (modules.paraphrase) impl_->paraphrase_path = find_paraphrases(data_dir);
}

Meteor::~Meteor() = default;
Meteor::Meteor(Meteor&&) noexcept = default;
Meteor& Meteor::operator=(Meteor&&) noexcept = default;

MeteorStats Meteor::segment_stats(const std::string& hyp, const std::vector<std::string>& refs) {
  auto [hyp_text, ref_texts] = impl_->score_line_parts(hyp, refs);
  std::vector<const std::string*> texts{&hyp_text};
  for (const auto& r : ref_texts) texts.push_back(&r);
  impl_->prepare_paraphrases(texts);
  return impl_->best_stats(hyp_text, ref_texts);
}

double Meteor::corpus_score(const std::vector<std::string>& hyps,
                            const std::vector<std::vector<std::string>>& refs_per_hyp,
                            std::vector<double>* segment_scores) {
  PETL_CHECK(hyps.size() == refs_per_hyp.size(), "METEOR: ", hyps.size(), " hypotheses but ",
             refs_per_hyp.size(), " reference lists");
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;
  lines.reserve(hyps.size());
  std::vector<const std::string*> texts;
  for (size_t i = 0; i < hyps.size(); ++i) {
    PETL_CHECK(!refs_per_hyp[i].empty(), "METEOR: hypothesis ", i + 1, " has no reference");
    try {
      lines.push_back(impl_->score_line_parts(hyps[i], refs_per_hyp[i]));
      impl_->words_of(lines.back().first);
      for (const auto& r : lines.back().second) impl_->words_of(r);
    } catch (const Error& e) {
      throw Error(detail::concat("METEOR: segment ", i + 1, " (hypothesis or one of its references): ", e.what()));
    }
  }
  for (const auto& [h, rs] : lines) {
    texts.push_back(&h);
    for (const auto& r : rs) texts.push_back(&r);
  }
  impl_->prepare_paraphrases(texts);
  MeteorStats total;
  if (segment_scores) segment_scores->clear();
  for (const auto& [h, rs] : lines) {
    const MeteorStats s = impl_->best_stats(h, rs);
    if (segment_scores) segment_scores->push_back(Impl::score(s));
    total.add(s);
  }
  return Impl::score(total);
}

double Meteor::score(const MeteorStats& stats) const { return Impl::score(stats); }

std::string Meteor::description() const {
  const auto& m = impl_->modules;
  if (m.stem && m.synonym && m.paraphrase) return "METEOR 1.5 -l en -norm";
  std::string used = "exact";
  if (m.stem) used += "+stem";
  if (m.synonym) used += "+synonym";
  if (m.paraphrase) used += "+paraphrase";
  return "METEOR 1.5 modules " + used + " only (not METEOR 1.5 -l en -norm)";
}

fs::path meteor_data_dir_from_env() {
  const char* dir = std::getenv("PETL_METEOR_DATA");
  return dir ? fs::path(dir) : fs::path();
}

}  // namespace petl::metrics
