// METEOR 1.5 (Denkowski & Lavie 2014), equal to `java -jar meteor-1.5.jar - - -stdio -l en -norm`
// as pycocoevalcap 1.2 and the E2E challenge scorer (tuetschek/e2e-metrics) run it: every segment
// is scored against each of its references and keeps the best (MeteorScorer.getMeteorStats), and
// the corpus score is computed from the segments' summed sufficient statistics (the `EVAL` line of
// the -stdio protocol, MeteorStats.addStats). See docs/meteor.md.
//
// The texts given here are the strings the jar receives: the E2E scorer first runs the COCO PTB
// tokenizer (lower-casing, punctuation removed) over outputs and references; that step belongs to
// the caller. pycocoevalcap's own rewriting of the hypothesis ("|||" removed, "  " -> " ") is done
// here, so a caller passes the tokenized output exactly as pycocoevalcap's Meteor receives it.
//
// Data (all loaded from the directory the caller gives, see docs/meteor.md):
//   - function words, nonbreaking prefixes, WordNet synonyms: resources inside meteor-1.5.jar
//     (read straight from the jar, a zip), or the same files extracted into the directory;
//   - the paraphrase table paraphrase-en.gz (pycocoevalcap ships it in meteor/data/).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace petl::metrics {

// The sufficient statistics of one segment (MeteorStats in the jar, word-level). Module order:
// exact, stem, synonym, paraphrase.
struct MeteorStats {
  double test_length = 0, reference_length = 0;
  double test_function_words = 0, reference_function_words = 0;
  double test_total_matches = 0, reference_total_matches = 0;
  std::vector<double> test_content_matches, reference_content_matches;    // per module
  std::vector<double> test_function_matches, reference_function_matches;  // per module
  double chunks = 0;
  double test_word_matches = 0, reference_word_matches = 0;

  // Adds another segment's statistics (MeteorStats.addStats: a perfectly matched single-chunk
  // segment contributes no chunk).
  void add(const MeteorStats& other);
};

// Which matchers run. The full set is METEOR 1.5 `-l en`; a smaller set is a different metric and
// is labelled as such wherever it is reported (see Meteor::description()).
struct MeteorModules {
  bool stem = true;
  bool synonym = true;
  bool paraphrase = true;
};

// Not thread-safe: an instance caches per-word data and the filtered paraphrase table; use one
// instance per thread.
class Meteor {
 public:
  // data_dir holds meteor-1.5.jar (or its extracted function/, nonbreaking/, synonym/ folders) and
  // paraphrase-en.gz (directly or under data/, as pycocoevalcap lays it out). Throws petl::Error
  // naming every file that is missing or malformed. The paraphrase table is read lazily, filtered
  // to the words of the texts being scored (identical results, a fraction of the memory).
  explicit Meteor(const std::filesystem::path& data_dir, MeteorModules modules = {});
  ~Meteor();
  Meteor(Meteor&&) noexcept;
  Meteor& operator=(Meteor&&) noexcept;

  // Corpus METEOR over hyps[i] scored against refs_per_hyp[i] (at least one reference each);
  // segment_scores, when given, receives each segment's score (the jar's per-segment EVAL lines).
  double corpus_score(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs_per_hyp,
                      std::vector<double>* segment_scores = nullptr);

  // One segment's statistics against its best reference (the jar's `SCORE` line). Words not seen
  // by earlier calls make the paraphrase table be read again (seconds): score whole corpora with
  // corpus_score, which reads it once.
  MeteorStats segment_stats(const std::string& hyp, const std::vector<std::string>& refs);

  // The score the statistics give (MeteorScorer.computeMetrics), for one segment or a sum.
  double score(const MeteorStats& stats) const;

  // "METEOR 1.5 -l en -norm" for the full module set, otherwise a label naming the modules used.
  std::string description() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The directory named by the environment variable PETL_METEOR_DATA, or empty when it is unset.
std::filesystem::path meteor_data_dir_from_env();

}  // namespace petl::metrics
