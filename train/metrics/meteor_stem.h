// The Snowball English ("Porter2") stemmer, as METEOR 1.5's stem module runs it
// (org.tartarus.snowball.ext.englishStemmer inside meteor-1.5.jar; algorithm:
// https://snowballstem.org/algorithms/english/stemmer.html, the 2006-2010 revision with the
// gener/commun/arsen R1 exceptions). Written from the algorithm's description; every step below
// names its rule. Characters outside a-z (and the marker Y) are neither vowels nor li-endings.
#pragma once
#include <string>
#include <string_view>

namespace petl::metrics::meteor {

std::u32string snowball_english_stem(std::u32string_view word);

}  // namespace petl::metrics::meteor
