// Porter stemmer, nltk 3.10.4 NLTK_EXTENSIONS mode (see porter_stemmer.h); each step below is the
// method of the same name in nltk/stem/porter.py.
#include "train/metrics/porter_stemmer.h"

#include <functional>
#include <map>
#include <vector>

namespace petl::metrics {

namespace {

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// _is_consonant: 'y' is a consonant unless preceded by a consonant; runs of y alternate.
bool is_consonant(const std::string& w, std::size_t i) {
  if (is_vowel(w[i])) return false;
  if (w[i] == 'y') {
    bool negate = false;
    while (i > 0 && w[i] == 'y') {
      negate = !negate;
      --i;
    }
    return (!is_vowel(w[i])) != negate;
  }
  return true;
}

// _consonant_flags: the left-to-right definition used by the measure.
std::vector<bool> consonant_flags(const std::string& w) {
  std::vector<bool> flags;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (is_vowel(w[i]))
      flags.push_back(false);
    else if (w[i] == 'y')
      flags.push_back(i == 0 ? true : !flags[i - 1]);
    else
      flags.push_back(true);
  }
  return flags;
}

// m in [C](VC)^m[V]: the number of "vc" pairs in the c/v sequence.
int measure(const std::string& stem) {
  const auto flags = consonant_flags(stem);
  int m = 0;
  for (std::size_t i = 1; i < flags.size(); ++i) m += (!flags[i - 1] && flags[i]);
  return m;
}

bool contains_vowel(const std::string& stem) {
  for (bool c : consonant_flags(stem))
    if (!c) return true;
  return false;
}

bool ends_double_consonant(const std::string& w) {
  return w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] && is_consonant(w, w.size() - 1);
}

bool ends_cvc(const std::string& w) {
  const std::size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != 'w' &&
      w[n - 1] != 'x' && w[n - 1] != 'y')
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

bool ends_with(const std::string& w, std::string_view suffix) {
  return w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string drop(const std::string& w, std::size_t n) { return w.substr(0, w.size() - n); }

using Condition = std::function<bool(const std::string& stem)>;
struct RuleSpec {
  std::string suffix, replacement;
  Condition condition;  // empty: always
};

// _apply_rule_list: the first rule whose suffix matches decides (applied or not); "*d" stands for
// a double consonant.
std::string apply_rules(const std::string& word, const std::vector<RuleSpec>& rules) {
  for (const RuleSpec& r : rules) {
    if (r.suffix == "*d" && ends_double_consonant(word)) {
      const std::string stem = drop(word, 2);
      return (!r.condition || r.condition(stem)) ? stem + r.replacement : word;
    }
    if (ends_with(word, r.suffix)) {
      const std::string stem = drop(word, r.suffix.size());
      return (!r.condition || r.condition(stem)) ? stem + r.replacement : word;
    }
  }
  return word;
}

bool positive_measure(const std::string& s) { return measure(s) > 0; }

std::string step1a(const std::string& w) {
  if (ends_with(w, "ies") && w.size() == 4) return drop(w, 3) + "ie";
  return apply_rules(w, {{"sses", "ss", {}}, {"ies", "i", {}}, {"ss", "ss", {}}, {"s", "", {}}});
}

std::string step1b(const std::string& w) {
  if (ends_with(w, "ied")) return drop(w, 3) + (w.size() == 4 ? "ie" : "i");
  if (ends_with(w, "eed")) {
    const std::string stem = drop(w, 3);
    return measure(stem) > 0 ? stem + "ee" : w;
  }
  std::string intermediate;
  bool succeeded = false;
  for (const char* suffix : {"ed", "ing"}) {
    if (ends_with(w, suffix)) {
      intermediate = drop(w, std::string_view(suffix).size());
      if (contains_vowel(intermediate)) {
        succeeded = true;
        break;
      }
    }
  }
  if (!succeeded) return w;
  const char last = intermediate.empty() ? '\0' : intermediate.back();
  return apply_rules(intermediate,
                     {{"at", "ate", {}},
                      {"bl", "ble", {}},
                      {"iz", "ize", {}},
                      {"*d", std::string(1, last), [last](const std::string&) { return last != 'l' && last != 's' && last != 'z'; }},
                      {"", "e", [](const std::string& s) { return measure(s) == 1 && ends_cvc(s); }}});
}

std::string step1c(const std::string& w) {
  return apply_rules(w, {{"y", "i", [](const std::string& s) { return s.size() > 1 && is_consonant(s, s.size() - 1); }}});
}

std::string step2(const std::string& w) {
  if (ends_with(w, "alli") && positive_measure(drop(w, 4))) return step2(drop(w, 4) + "al");
  return apply_rules(w, {{"ational", "ate", positive_measure},
                         {"tional", "tion", positive_measure},
                         {"enci", "ence", positive_measure},
                         {"anci", "ance", positive_measure},
                         {"izer", "ize", positive_measure},
                         {"bli", "ble", positive_measure},
                         {"alli", "al", positive_measure},
                         {"entli", "ent", positive_measure},
                         {"eli", "e", positive_measure},
                         {"ousli", "ous", positive_measure},
                         {"ization", "ize", positive_measure},
                         {"ation", "ate", positive_measure},
                         {"ator", "ate", positive_measure},
                         {"alism", "al", positive_measure},
                         {"iveness", "ive", positive_measure},
                         {"fulness", "ful", positive_measure},
                         {"ousness", "ous", positive_measure},
                         {"aliti", "al", positive_measure},
                         {"iviti", "ive", positive_measure},
                         {"biliti", "ble", positive_measure},
                         {"fulli", "ful", positive_measure},
                         // NLTK: the condition looks at the word minus "ogi" (stem + "l")
                         {"logi", "log", [&w](const std::string&) { return positive_measure(drop(w, 3)); }}});
}

std::string step3(const std::string& w) {
  return apply_rules(w, {{"icate", "ic", positive_measure},
                         {"ative", "", positive_measure},
                         {"alize", "al", positive_measure},
                         {"iciti", "ic", positive_measure},
                         {"ical", "ic", positive_measure},
                         {"ful", "", positive_measure},
                         {"ness", "", positive_measure}});
}

std::string step4(const std::string& w) {
  const Condition gt1 = [](const std::string& s) { return measure(s) > 1; };
  return apply_rules(w, {{"al", "", gt1},    {"ance", "", gt1}, {"ence", "", gt1}, {"er", "", gt1},
                         {"ic", "", gt1},    {"able", "", gt1}, {"ible", "", gt1}, {"ant", "", gt1},
                         {"ement", "", gt1}, {"ment", "", gt1}, {"ent", "", gt1},
                         {"ion", "", [](const std::string& s) { return measure(s) > 1 && !s.empty() && (s.back() == 's' || s.back() == 't'); }},
                         {"ou", "", gt1},    {"ism", "", gt1},  {"ate", "", gt1},  {"iti", "", gt1},
                         {"ous", "", gt1},   {"ive", "", gt1},  {"ize", "", gt1}});
}

std::string step5a(const std::string& w) {
  if (ends_with(w, "e")) {
    const std::string stem = drop(w, 1);
    if (measure(stem) > 1) return stem;
    if (measure(stem) == 1 && !ends_cvc(stem)) return stem;
  }
  return w;
}

std::string step5b(const std::string& w) {
  return apply_rules(w, {{"ll", "l", [&w](const std::string&) { return measure(drop(w, 1)) > 1; }}});
}

}  // namespace

std::string porter_stem(std::string_view input) {
  static const std::map<std::string, std::string> irregular = {
      {"sky", "sky"},         {"skies", "sky"},     {"dying", "die"},     {"lying", "lie"},
      {"tying", "tie"},       {"news", "news"},     {"innings", "inning"}, {"inning", "inning"},
      {"outings", "outing"},  {"outing", "outing"}, {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},       {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"}};
  std::string word(input);
  for (char& c : word)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  if (const auto it = irregular.find(word); it != irregular.end()) return it->second;
  if (word.size() <= 2) return word;
  word = step1a(word);
  word = step1b(word);
  word = step1c(word);
  word = step2(word);
  word = step3(word);
  word = step4(word);
  word = step5a(word);
  word = step5b(word);
  return word;
}

}  // namespace petl::metrics
