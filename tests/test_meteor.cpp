// METEOR 1.5 against the jar: every fixture of tests/fixtures/meteor (written by
// tools/oracle/meteor_oracle.py from pycocoevalcap 1.2's meteor-1.5.jar) must give the jar's corpus
// score, segment scores and segment statistics, with the committed data subset (always) and with
// the full data (when PETL_METEOR_DATA names a directory holding meteor-1.5.jar and
// paraphrase-en.gz). Plus the normalizer and the Snowball stemmer word by word against the jar's
// own classes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/skip.h"
#include "tensor/error.h"
#include "train/metrics/meteor.h"
#include "train/metrics/meteor_data.h"
#include "train/metrics/meteor_normalize.h"
#include "train/metrics/meteor_stem.h"
#include "train/metrics/meteor_text.h"

namespace fs = std::filesystem;
using petl::metrics::Meteor;
using petl::metrics::MeteorStats;
namespace m = petl::metrics::meteor;

namespace {

const fs::path kFixtures = "tests/fixtures/meteor";

nlohmann::json load_fixture(const std::string& name) {
  fs::path path = kFixtures / (name + ".json");
  std::string text;
  if (fs::exists(path)) {
    text = m::read_binary_file(path);
  } else {
    path = kFixtures / (name + ".json.gz");
    m::for_each_gzip_line(path, [&](std::string_view line, int64_t) {
      text += line;
      text += '\n';
    });
  }
  return nlohmann::json::parse(text);
}

const std::vector<std::string> kFixtureNames = {"e2e_dev_baseline", "e2e_degraded",  "e2e_shuffled",
                                                "e2e_empty_lines",  "e2e_raw_text",  "unicode",
                                                "webnlg_like",      "dart_like"};

// The jar's MeteorStats.toString numbers, in its order.
std::vector<double> stats_numbers(const MeteorStats& s) {
  std::vector<double> v = {s.test_length, s.reference_length, s.test_function_words,
                           s.reference_function_words};
  for (size_t i = 0; i < s.test_content_matches.size(); ++i) {
    v.push_back(s.test_content_matches[i]);
    v.push_back(s.reference_content_matches[i]);
    v.push_back(s.test_function_matches[i]);
    v.push_back(s.reference_function_matches[i]);
  }
  v.push_back(s.chunks);
  v.push_back(s.test_word_matches);
  v.push_back(s.reference_word_matches);
  return v;
}

std::vector<double> parse_numbers(const std::string& line) {
  std::istringstream in(line);
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

// Distance in units in the last place. The jar computes frag^beta with Java's Math.pow, which
// HotSpot replaces by an x86 intrinsic that is not always correctly rounded (for frag =
// 0.2553191489361702 it returns 0.7610561111586592 where StrictMath.pow and glibc give ...591), so a
// segment score may sit one ulp from ours; the statistics it comes from are compared exactly.
int64_t ulps_apart(double a, double b) {
  int64_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return std::llabs(ia - ib);
}
constexpr int64_t kPowUlps = 2;

std::string four_places(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", x);
  return buf;
}

// Scores every fixture with `meteor` and checks it against the jar, printing agreement counts.
void check_fixtures(Meteor& meteor, const std::string& label) {
  {
    // one pass over all texts first, so the paraphrase table is read once (filtered to all words)
    std::vector<std::string> hyps;
    std::vector<std::vector<std::string>> refs;
    for (const auto& name : kFixtureNames) {
      const auto fx = load_fixture(name);
      for (const auto& h : fx.at("hyps")) hyps.push_back(h.get<std::string>());
      for (const auto& r : fx.at("refs")) refs.push_back(r.get<std::vector<std::string>>());
    }
    meteor.corpus_score(hyps, refs);
  }
  for (const auto& name : kFixtureNames) {
    CAPTURE(name);
    CAPTURE(label);
    const auto fx = load_fixture(name);
    const auto hyps = fx.at("hyps").get<std::vector<std::string>>();
    const auto refs = fx.at("refs").get<std::vector<std::vector<std::string>>>();
    const auto want_segments = fx.at("segment_scores").get<std::vector<double>>();
    const auto want_stats = fx.at("segment_stats").get<std::vector<std::string>>();
    const double want = fx.at("corpus_score").get<double>();

    std::vector<double> segments;
    const double got = meteor.corpus_score(hyps, refs, &segments);
    REQUIRE(segments.size() == want_segments.size());
    size_t exact = 0, stats_equal = 0;
    double max_diff = 0;
    for (size_t i = 0; i < segments.size(); ++i) {
      exact += segments[i] == want_segments[i];
      max_diff = std::max(max_diff, std::abs(segments[i] - want_segments[i]));
      const auto stats = stats_numbers(meteor.segment_stats(hyps[i], refs[i]));
      const bool same = stats == parse_numbers(want_stats[i]);
      stats_equal += same;
      if (!same || ulps_apart(segments[i], want_segments[i]) > kPowUlps) {
        INFO("segment ", i + 1, ": hyp '", hyps[i], "' ours ", segments[i], " jar ", want_segments[i],
             " jar stats '", want_stats[i], "'");
        CHECK(ulps_apart(segments[i], want_segments[i]) <= kPowUlps);
        CHECK(same);
      }
    }
    std::printf("[meteor %s] %-18s corpus %.17g jar %.17g (%s vs %s); segments equal %zu/%zu, "
                "stats equal %zu/%zu, max |diff| %.3g\n",
                label.c_str(), name.c_str(), got, want, four_places(got).c_str(),
                four_places(want).c_str(), exact, segments.size(), stats_equal, segments.size(), max_diff);
    CHECK(four_places(got) == four_places(want));
    CHECK(ulps_apart(got, want) <= kPowUlps);
    CHECK(stats_equal == segments.size());
  }
}

}  // namespace

TEST_CASE("meteor: every fixture equals the jar with the committed data subset") {
  Meteor meteor(kFixtures / "data");
  CHECK(meteor.description() == "METEOR 1.5 -l en -norm");
  check_fixtures(meteor, "subset");
}

TEST_CASE("meteor: every fixture equals the jar with the full data (PETL_METEOR_DATA)") {
  const fs::path dir = petl::metrics::meteor_data_dir_from_env();
  if (dir.empty()) PETL_SKIP("PETL_METEOR_DATA is not set (directory with meteor-1.5.jar and paraphrase-en.gz)");
  Meteor meteor(dir);
  check_fixtures(meteor, "full");
}

TEST_CASE("meteor: the E2E dev baseline gives the official 0.4703") {
  Meteor meteor(kFixtures / "data");
  const auto fx = load_fixture("e2e_dev_baseline");
  const double got = meteor.corpus_score(fx.at("hyps").get<std::vector<std::string>>(),
                                         fx.at("refs").get<std::vector<std::vector<std::string>>>());
  CHECK(four_places(got) == "0.4703");
}

TEST_CASE("meteor: normalizer equals the jar's Normalizer on tricky lines") {
  std::ifstream in(kFixtures / "normalizer.tsv");
  REQUIRE(in);
  m::Normalizer normalizer(m::read_binary_file(kFixtures / "data" / "nonbreaking" / "english.prefixes"));
  std::string line;
  int cases = 0, equal = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.rfind('\t');
    REQUIRE(tab != std::string::npos);
    std::string raw;  // the oracle wrote tabs as "\t"
    for (size_t i = 0; i < tab; ++i) {
      if (line[i] == '\\' && i + 1 < tab && line[i + 1] == 't') {
        raw += '\t';
        ++i;
      } else {
        raw += line[i];
      }
    }
    const std::string want = line.substr(tab + 1);
    const std::string got = m::to_utf8(m::java_lower(normalizer.normalize(m::to_u32(raw, "fixture"))));
    ++cases;
    equal += got == want;
    CHECK_MESSAGE(got == want, "raw '", raw, "'");
  }
  std::printf("[meteor] normalizer: %d/%d lines equal to the jar\n", equal, cases);
  CHECK(cases > 50);
}

TEST_CASE("meteor: Snowball English stemmer equals the jar's englishStemmer") {
  std::ifstream in(kFixtures / "stemmer.tsv");
  REQUIRE(in);
  std::string line;
  int cases = 0, equal = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string word = line.substr(0, tab), want = line.substr(tab + 1);
    const std::string got = m::to_utf8(m::snowball_english_stem(m::to_u32(word, "fixture")));
    ++cases;
    equal += got == want;
    CHECK_MESSAGE(got == want, "word '", word, "'");
  }
  std::printf("[meteor] stemmer: %d/%d words equal to the jar\n", equal, cases);
  CHECK(cases > 1000);
}

TEST_CASE("meteor: Java string semantics (hash, lower case, trim)") {
  // expectations confirmed with OpenJDK 17 (String.hashCode, toLowerCase, trim); U+1F600 is two
  // UTF-16 units, final capital sigma lower-cases to final sigma
  CHECK(m::java_hash(U"") == 0);
  CHECK(m::java_hash(U"ab") == 97 * 31 + 98);
  CHECK(m::java_hash(U"\U0001F600") == static_cast<int32_t>(0xD83D * 31 + 0xDE00));
  CHECK(m::java_length(U"a\U0001F600") == 3);
  CHECK(m::java_lower(U"ÀÉÎ ŸŽ ЖΣ") == U"àéî ÿž жς");
  CHECK(m::java_trim(U"\t a b \x01") == U"a b");
}

TEST_CASE("meteor: bad input and missing data are clear errors") {
  CHECK_THROWS_AS(Meteor(fs::path("/nonexistent/meteor-data")), petl::Error);
  CHECK_THROWS_AS(Meteor(fs::path()), petl::Error);
  Meteor meteor(kFixtures / "data");
  CHECK_THROWS_AS(meteor.corpus_score({"a"}, {}), petl::Error);
  CHECK_THROWS_AS(meteor.corpus_score({"a"}, {{}}), petl::Error);
  CHECK_THROWS_AS(meteor.corpus_score({"bad \xff utf8"}, {{"ref"}}), petl::Error);
  CHECK_THROWS_AS(meteor.corpus_score({"two\nlines"}, {{"ref"}}), petl::Error);
  try {
    meteor.corpus_score({"fine", "bad \xc3"}, {{"ref"}, {"ref"}});
    FAIL("no error for truncated UTF-8");
  } catch (const petl::Error& e) {
    CHECK(std::string(e.what()).find("UTF-8") != std::string::npos);
    CHECK(std::string(e.what()).find("segment 2") != std::string::npos);
  }
}

TEST_CASE("meteor: a corrupt jar or paraphrase table is an error naming the file") {
  const fs::path dir = fs::temp_directory_path() / "petl_meteor_corrupt_data";
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  {
    std::ofstream(dir / "meteor-1.5.jar") << "not a zip archive";
  }
  try {
    Meteor meteor(dir);
    FAIL("no error for a corrupt jar");
  } catch (const petl::Error& e) {
    CHECK(std::string(e.what()).find("meteor-1.5.jar") != std::string::npos);
  }
  // extracted resources from the fixture subset, then a paraphrase table that is not gzip data
  fs::remove(dir / "meteor-1.5.jar");
  for (const char* sub : {"function", "nonbreaking", "synonym"})
    fs::copy(kFixtures / "data" / sub, dir / sub, fs::copy_options::recursive);
  {
    // a gzip header (magic, deflate, no flags, mtime, xfl, os) followed by bytes that are no
    // deflate stream
    const char bytes[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff\xff garbage";
    std::ofstream out(dir / "data" / "paraphrase-en.gz", std::ios::binary);
    out.write(bytes, sizeof bytes - 1);
  }
  Meteor meteor(dir);
  try {
    meteor.corpus_score({"a cheap restaurant"}, {{"an inexpensive restaurant"}});
    FAIL("no error for a corrupt paraphrase table");
  } catch (const petl::Error& e) {
    CHECK(std::string(e.what()).find("paraphrase-en.gz") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("meteor: without synonyms and paraphrases the label says it is not METEOR 1.5") {
  Meteor reduced(kFixtures / "data", {.stem = true, .synonym = false, .paraphrase = false});
  Meteor full(kFixtures / "data");
  CHECK(reduced.description().find("not METEOR 1.5") != std::string::npos);
  // a pair with exact matches only scores the same whichever modules run
  const std::vector<std::string> hyp = {"the cat sat on the mat"};
  const std::vector<std::vector<std::string>> ref = {{"the cat sat on a mat"}};
  CHECK(reduced.corpus_score(hyp, ref) == full.corpus_score(hyp, ref));
}
