// The metrics against their reference implementations, on fixtures that
// tools/oracle/metrics_oracle.py wrote with the official tools (see docs/metrics.md):
// mteval-v13a-sig.pl, pycocoevalcap 1.2, multi-bleu.perl, sacrebleu's tercom port, METEOR 1.5
// and rouge-score 0.1.2. Fixtures with references inline run everywhere; the E2E dev baseline
// (the published fixed point) needs the shared data and skips visibly without it.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/skip.h"
#include "train/data/references.h"
#include "train/data/text_file.h"
#include "train/metrics/bleu_multi.h"
#include "train/metrics/coco_caption.h"
#include "train/metrics/data_to_text_text.h"
#include "train/metrics/meteor.h"
#include "train/metrics/mteval.h"
#include "train/metrics/porter_stemmer.h"
#include "train/metrics/python_text.h"
#include "train/metrics/ptb_tokenizer.h"
#include "train/metrics/rouge_score.h"
#include "train/metrics/task_scores.h"
#include "train/metrics/ter.h"
#include "train/metrics/text_util.h"
#include "train/metrics/unidecode.h"

using nlohmann::json;
namespace m = petl::metrics;

namespace {

json fixture(const std::string& name) {
  std::ifstream in("tests/fixtures/metrics/" + name);
  REQUIRE_MESSAGE(in.good(), "missing fixture tests/fixtures/metrics/" << name);
  return json::parse(in);
}

// PETL_DATA_DIR, else ../shared/data relative to the project root; empty when neither exists.
std::filesystem::path data_dir() {
  if (const char* env = std::getenv("PETL_DATA_DIR"); env && *env && std::filesystem::exists(env)) return env;
  const auto rel = petl::testing::shared_data("");
  return std::filesystem::exists(rel) ? rel : std::filesystem::path();
}

std::unique_ptr<m::Meteor> meteor_or_null() {
  const auto dir = m::meteor_data_dir_from_env();
  return dir.empty() ? nullptr : std::make_unique<m::Meteor>(dir);
}

}  // namespace

TEST_CASE("E2E BLEU, NIST, ROUGE-L, CIDEr equal the E2E scorer on made-up systems") {
  const json f = fixture("e2e_made_up.json");
  const auto refs = f["references"].get<m::References>();
  for (const json& c : f["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    const auto outputs = c["outputs"].get<std::vector<std::string>>();
    const m::E2EScores s = m::score_e2e(outputs, refs, nullptr);
    // mteval sums information weights in Perl hash order: agreement to rounding, not bits.
    CHECK(s.bleu == doctest::Approx(c["scores"]["BLEU"].get<double>()).epsilon(1e-12));
    CHECK(s.nist == doctest::Approx(c["scores"]["NIST"].get<double>()).epsilon(1e-12));
    CHECK(s.rouge_l == doctest::Approx(c["scores"]["ROUGE_L"].get<double>()).epsilon(1e-12));
    CHECK(s.cider == doctest::Approx(c["scores"]["CIDEr"].get<double>()).epsilon(1e-12));
  }
}

TEST_CASE("E2E dev baseline: the official scorer's figures (shared data)") {
  const auto dir = data_dir();
  if (dir.empty()) PETL_SKIP("shared data not found (set PETL_DATA_DIR)");
  const json f = fixture("e2e_dev_baseline.json");
  auto refs = petl::data::load_references(petl::data::Task::e2e, (dir / f["references_file"].get<std::string>()).string());
  std::vector<std::string> outputs;
  petl::data::for_each_line((dir / f["outputs_file"].get<std::string>()).string(), [&](std::string_view l, int64_t) {
    outputs.emplace_back(l);
    return true;
  });
  auto meteor = meteor_or_null();
  const m::E2EScores s = m::score_e2e(outputs, refs.refs, meteor.get());
  const json& want = f["scores"];
  CHECK(s.bleu == doctest::Approx(want["BLEU"].get<double>()).epsilon(1e-12));
  CHECK(s.nist == doctest::Approx(want["NIST"].get<double>()).epsilon(1e-12));
  CHECK(s.rouge_l == doctest::Approx(want["ROUGE_L"].get<double>()).epsilon(1e-12));
  CHECK(s.cider == doctest::Approx(want["CIDEr"].get<double>()).epsilon(1e-12));
  // The published four-decimal figures.
  CHECK(std::round(s.bleu * 1e4) / 1e4 == doctest::Approx(0.6925));
  CHECK(std::round(s.nist * 1e4) / 1e4 == doctest::Approx(8.4781));
  CHECK(std::round(s.rouge_l * 1e4) / 1e4 == doctest::Approx(0.7257));
  CHECK(std::round(s.cider * 1e4) / 1e4 == doctest::Approx(2.3987));
  if (meteor) CHECK(*s.meteor == doctest::Approx(want["METEOR"].get<double>()).epsilon(1e-9));
}

TEST_CASE("WebNLG BLEU (multi-bleu -lc, 3 references) and TER equal the oracle") {
  const json f = fixture("webnlg_made_up.json");
  const auto refs = f["references"].get<m::References>();
  for (const json& c : f["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    const m::BleuTer s = m::score_webnlg(c["outputs"].get<std::vector<std::string>>(), refs);
    CHECK(s.bleu / 100 == doctest::Approx(c["scores"]["BLEU"].get<double>()).epsilon(1e-12));
    CHECK(s.ter == doctest::Approx(c["scores"]["TER"].get<double>()).epsilon(1e-12));
  }
}

TEST_CASE("DART BLEU and TER equal the oracle") {
  const json f = fixture("dart_made_up.json");
  const auto refs = f["references"].get<m::References>();
  for (const json& c : f["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    const m::DartScores s = m::score_dart(c["outputs"].get<std::vector<std::string>>(), refs, nullptr);
    CHECK(s.bleu / 100 == doctest::Approx(c["scores"]["BLEU"].get<double>()).epsilon(1e-12));
    CHECK(s.ter == doctest::Approx(c["scores"]["TER"].get<double>()).epsilon(1e-12));
    CHECK(!s.meteor);
  }
}

TEST_CASE("DART METEOR (first reference) equals the METEOR 1.5 jar") {
  auto meteor = meteor_or_null();
  if (!meteor) PETL_SKIP("METEOR data not found (set PETL_METEOR_DATA)");
  const json f = fixture("dart_made_up.json");
  const auto refs = f["references"].get<m::References>();
  for (const json& c : f["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    const m::DartScores s = m::score_dart(c["outputs"].get<std::vector<std::string>>(), refs, meteor.get());
    REQUIRE(s.meteor);
    CHECK(*s.meteor == doctest::Approx(c["scores"]["METEOR"].get<double>()).epsilon(1e-9));
  }
}

TEST_CASE("WebNLG / DART official text steps equal the Python of the official scripts") {
  // evaluation.py's reference and output steps and gpt2_decode.py's lower + tokenize, run by the
  // oracle (Python 3.11, unidecode 1.4.0) on stress strings and a sample of the dev texts.
  const json f = fixture("data_to_text_text.json");
  for (const json& c : f["cases"]) {
    const std::string text = c["text"].get<std::string>();
    CAPTURE(text);
    CHECK(m::webnlg_challenge_reference(text) == c["webnlg_reference"].get<std::string>());
    CHECK(m::webnlg_challenge_output(text) == c["webnlg_output"].get<std::string>());
    CHECK(m::dart_text(text) == c["dart"].get<std::string>());
  }
}

TEST_CASE("python_lower, split_non_word_tokens and unidecode on single characters") {
  // Values from Python 3.11 and unidecode 1.4.0: "ΑΣ ΣΑ".lower(), re.split('(\\W)') joins,
  // unidecode("½"), unidecode("\U000F0000").
  CHECK(m::python_lower("\xCE\x91\xCE\xA3 \xCE\xA3\xCE\x91") == "\xCE\xB1\xCF\x82 \xCF\x83\xCE\xB1");
  CHECK(m::split_non_word_tokens("  a_b,c--d\xC2\xA0" "e ") == "a_b , c - - d e");
  CHECK(m::unidecode("\xC2\xBD") == " 1/2");
  CHECK(m::unidecode("\xF3\xB0\x80\x80x") == "x");
  CHECK(m::is_python_word_char(U'_'));
  CHECK(!m::is_python_word_char(U'-'));
}

namespace {

// The two systems of the *_dev_official.json fixtures, rebuilt from the references.
std::vector<std::string> dev_system(const std::string& name, const m::References& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) {
    if (r.empty()) {
      out.emplace_back();
    } else if (name == "last_reference") {
      out.push_back(r.back());
    } else {
      REQUIRE(name == "first_reference_thinned");
      const std::vector<std::string> words = m::python_split(r.front());
      std::string line;
      for (std::size_t i = 0; i < words.size(); ++i)
        if (i % 3 != 2) line += (line.empty() ? "" : " ") + words[i];
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("WebNLG dev set: BLEU and TER of the official evaluation (shared data)") {
  const auto dir = data_dir();
  if (dir.empty()) PETL_SKIP("shared data not found (set PETL_DATA_DIR)");
  const json f = fixture("webnlg_dev_official.json");
  const auto all = petl::data::load_references(petl::data::Task::webnlg, (dir / "webnlg/dev").string());
  const auto seen = petl::data::select_seen(all, true);
  for (const auto& system : f["scores"].items()) {
    const std::string name = system.key();
    CAPTURE(name);
    for (const auto& entry : system.value().items()) {
      const std::string split = entry.key();
      const json& want = entry.value();
      CAPTURE(split);
      REQUIRE((split == "all" || split == "seen"));  // the 2017 dev set has seen categories only
      const auto& set = split == "all" ? all : seen;
      const m::BleuTer s = m::score_webnlg(dev_system(name, set.refs), set.refs);
      CHECK(s.bleu / 100 == doctest::Approx(want["BLEU"].get<double>()).epsilon(1e-12));
      CHECK(s.ter == doctest::Approx(want["TER"].get<double>()).epsilon(1e-12));
    }
  }
}

TEST_CASE("DART dev set: BLEU, TER (and METEOR) of the official evaluation (shared data)") {
  const auto dir = data_dir();
  if (dir.empty()) PETL_SKIP("shared data not found (set PETL_DATA_DIR)");
  const json f = fixture("dart_dev_official.json");
  const auto set = petl::data::load_references(petl::data::Task::dart, (dir / "dart/dart-v1.1.1-full-dev.json").string());
  auto meteor = meteor_or_null();
  for (const auto& system : f["scores"].items()) {
    const std::string name = system.key();
    const json& want = system.value();
    CAPTURE(name);
    const m::DartScores s = m::score_dart(dev_system(name, set.refs), set.refs, meteor.get());
    CHECK(s.bleu / 100 == doctest::Approx(want["BLEU"].get<double>()).epsilon(1e-12));
    CHECK(s.ter == doctest::Approx(want["TER"].get<double>()).epsilon(1e-12));
    if (meteor) CHECK(*s.meteor == doctest::Approx(want["METEOR"].get<double>()).epsilon(1e-9));
  }
  if (!meteor) MESSAGE("METEOR not checked on the DART dev set: no METEOR data (set PETL_METEOR_DATA)");
}

TEST_CASE("XSum ROUGE-1/2/L/Lsum equal rouge-score per example and in the mean") {
  const json f = fixture("xsum_made_up.json");
  std::vector<std::string> targets;
  for (const auto& r : f["references"]) targets.push_back(r[0].get<std::string>());
  for (const json& c : f["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    const auto outputs = c["outputs"].get<std::vector<std::string>>();
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const m::RougeScores s = m::rouge_score(targets[i], outputs[i]);
      const json& want = c["per_pair"][i];
      const std::array<std::pair<const char*, const m::RougeScore*>, 4> kinds = {
          {{"rouge1", &s.rouge1}, {"rouge2", &s.rouge2}, {"rougeL", &s.rougeL}, {"rougeLsum", &s.rougeLsum}}};
      for (const auto& kind : kinds) {
        const char* name = kind.first;  // not a structured binding: CAPTURE's lambda takes it (clang 14)
        const m::RougeScore* got = kind.second;
        CAPTURE(name);
        CHECK(got->precision == doctest::Approx(want[name][0].get<double>()).epsilon(1e-12));
        CHECK(got->recall == doctest::Approx(want[name][1].get<double>()).epsilon(1e-12));
        CHECK(got->fmeasure == doctest::Approx(want[name][2].get<double>()).epsilon(1e-12));
      }
    }
    const m::XsumScores mean = m::score_xsum(outputs, targets);
    CHECK(mean.rouge1 == doctest::Approx(c["mean_f1"]["rouge1"].get<double>()).epsilon(1e-12));
    CHECK(mean.rouge2 == doctest::Approx(c["mean_f1"]["rouge2"].get<double>()).epsilon(1e-12));
    CHECK(mean.rougeL == doctest::Approx(c["mean_f1"]["rougeL"].get<double>()).epsilon(1e-12));
    CHECK(mean.rougeLsum == doctest::Approx(c["mean_f1"]["rougeLsum"].get<double>()).epsilon(1e-12));
  }
}

TEST_CASE("Porter stemmer equals nltk's PorterStemmer() on the fixture words") {
  const json f = fixture("porter_stemmer.json");
  const auto words = f["words"].get<std::vector<std::string>>();
  const auto stems = f["stems"].get<std::vector<std::string>>();
  int wrong = 0;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string got = m::porter_stem(words[i]);
    if (got != stems[i]) {
      ++wrong;
      if (wrong <= 10) MESSAGE(words[i] << ": " << got << " vs nltk " << stems[i]);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("PTB tokenizer equals CoreNLP 3.4.1 on the fixture lines") {
  const json f = fixture("ptb_tokenizer.json");
  const auto lines = f["lines"].get<std::vector<std::string>>();
  const auto want = f["tokens"].get<std::vector<std::string>>();
  const auto got = m::ptb_tokenize_lines(lines);
  REQUIRE(got.size() == want.size());
  int wrong = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    std::string joined;
    for (const auto& t : got[i]) joined += (joined.empty() ? "" : " ") + t;
    if (joined != want[i]) {
      ++wrong;
      MESSAGE("line " << i << ": " << joined << "\n   jar: " << want[i]);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("TER: a block shift towards the last words (Python's clamped slices)") {
  // WebNLG dev entry 665 (2017 dev, last lexicalisation against the first two): the shift search
  // builds a "within" shift whose slice ends past the list, which Python clamps; petl read past
  // the end here once. Edits and lengths from sacrebleu 2.6.0 translation_edit_rate.
  const std::string hyp =
      "Born in Italy, Rolando Maran is the manager of AC Chievo Verona. He also plays for Carrarese Calcio and is "
      "in the Unione Triestina 2012 S.S.D. club.";
  const m::TerStats a = m::ter_segment(hyp, {"Italian born Rolando Maran manages Associazione Calcio Chievo Verona. He "
                                             "is also in the Unione Triestina 2012 S.S.D. club as well as playing for "
                                             "Carrarese Calcio."});
  CHECK(a.edits == 16);
  CHECK(a.ref_length == 26);
  const m::TerStats b = m::ter_segment(hyp, {"Italian born Rolando Maran plays at the Carrarese Calcio and is in the "
                                             "Unione Triestina 2012 S.S.D. club. He is currently the manager of AC "
                                             "Chievo Verona."});
  CHECK(b.edits == 10);
  CHECK(b.ref_length == 27);
}

TEST_CASE("scorers reject mismatched inputs with petl::Error") {
  CHECK_THROWS_AS(m::bleu_e2e({"a"}, {}), petl::Error);
  CHECK_THROWS_AS(m::cider_d({"a", "b"}, {{"a"}}), petl::Error);
  CHECK_THROWS_AS(m::ter({"a"}, {{}}), petl::Error);
  CHECK_THROWS_AS(m::multi_bleu({"a"}, {{""}}, false), petl::Error);  // references without words
  CHECK_THROWS_AS(m::rouge_corpus_mean_f1({"a"}, {"a", "b"}), petl::Error);
}

#ifdef PETL_SCORE_EXE
TEST_CASE("petl_score prints the five E2E figures for the dev baseline (shared data)") {
  const auto dir = data_dir();
  if (dir.empty()) PETL_SKIP("shared data not found (set PETL_DATA_DIR)");
  const std::string cmd = std::string(PETL_SCORE_EXE) + " --task e2e --refs " + (dir / "e2e/devset.csv").string() +
                          " --outputs " + (dir / "e2e/metrics/dev_baseline_output.txt").string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  CHECK(pclose(pipe) == 0);
  CHECK(out.find("BLEU 0.6925\n") != std::string::npos);
  CHECK(out.find("NIST 8.4781\n") != std::string::npos);
  CHECK(out.find("ROUGE_L 0.7257\n") != std::string::npos);
  CHECK(out.find("CIDEr 2.3987\n") != std::string::npos);
  if (m::meteor_data_dir_from_env().empty())
    CHECK(out.find("METEOR skipped") != std::string::npos);
  else
    CHECK(out.find("METEOR 0.4703\n") != std::string::npos);
}

TEST_CASE("petl_score refuses an output file with the wrong number of lines") {
  const auto dir = data_dir();
  if (dir.empty()) PETL_SKIP("shared data not found (set PETL_DATA_DIR)");
  const auto tmp = std::filesystem::temp_directory_path() / "petl_score_short_outputs.txt";
  std::ofstream(tmp) << "only one line\n";
  const std::string cmd = std::string(PETL_SCORE_EXE) + " --task e2e --no-meteor --refs " +
                          (dir / "e2e/devset.csv").string() + " --outputs " + tmp.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  CHECK(pclose(pipe) != 0);
  CHECK(out.find("has 1 lines but") != std::string::npos);
  CHECK(out.find("547 distinct inputs") != std::string::npos);
  std::filesystem::remove(tmp);
}
#endif
