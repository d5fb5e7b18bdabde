// The Porter stemmer exactly as rouge-score 0.1.2 uses it: nltk.stem.porter.PorterStemmer() in its
// default mode NLTK_EXTENSIONS (nltk 3.10.4, nltk/stem/porter.py), i.e. Porter (1980) plus NLTK's
// departures: a table of irregular forms (dying -> die, skies -> sky, news -> news, ...), words of
// one or two letters left alone, step 1a "ies" -> "ie" for four-letter words, step 1b "ied",
// step 1c only after a consonant, step 2 "alli" recursion, "fulli" and "logi", step 2 "bli" rule,
// and the two-letter "*o" case in the cvc test. Not the Snowball "english" stemmer (METEOR's).
#pragma once
#include <string>
#include <string_view>

namespace petl::metrics {

// PorterStemmer().stem(word) for a lowercase ASCII word (rouge-score only stems [a-z0-9]+ tokens
// longer than three characters).
std::string porter_stem(std::string_view word);

}  // namespace petl::metrics
