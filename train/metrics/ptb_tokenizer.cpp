// PTBTokenizer (Stanford CoreNLP 3.4.1) as pycocoevalcap runs it; see ptb_tokenizer.h.
// The macros and rules below transcribe PTBLexer.flex: same rule order, same macro bodies
// (written in the syntax of lexer_regex.h), and the actions of the default options: -LRB- style
// brackets, LaTeX quotes, "--" dashes, "..." ellipses, "\/" and "\*" escapes, currency mapped
// to the PTB's "$" / "#" / "cents", untokenizable characters dropped.
#include "train/metrics/ptb_tokenizer.h"

#include <map>
#include <memory>

#include "train/metrics/lexer_regex.h"
#include "train/metrics/text_util.h"

namespace petl::metrics {

namespace {

const std::map<std::string, std::string>& macros() {
  static const std::map<std::string, std::string> m = {
      {"SGML", R"re(<\/?[A-Za-z!][^>]*>)re"},
      {"SPMDASH", R"re(&(MD|mdash|ndash);|[\u0096\u0097\u2013\u2014\u2015])re"},
      {"SPAMP", R"re(&amp;)re"},
      {"SPPUNC", R"re(&(HT|TL|UR|LR|QC|QL|QR|odq|cdq|#[0-9]+);)re"},
      {"SPLET", R"re(&[aeiouAEIOU](acute|grave|uml);)re"},
      {"SPACE", R"re([ \t\u00A0\u2000-\u200A\u3000])re"},
      {"SPACES", R"re({SPACE}+)re"},
      {"NEWLINE", R"re(\r|\r?\n|\u2028|\u2029|\u000B|\u000C|\u0085)re"},
      {"SPACENL", R"re(({SPACE}|{NEWLINE}))re"},
      {"SENTEND", R"re({SPACENL}({SPACENL}|([A-Z]|{SGML})))re"},
      {"DIGIT", R"re([:digit:]|[\u07C0-\u07C9])re"},
      {"DATE", R"re({DIGIT}{1,2}[\-\/]{DIGIT}{1,2}[\-\/]{DIGIT}{2,4})re"},
      {"NUM", R"re({DIGIT}+|{DIGIT}*([.:,\u00AD\u066B\u066C]{DIGIT}+)+)re"},
      {"NUMBER", R"re([\-+]?{NUM})re"},
      {"SUBSUPNUM", R"re([\u207A\u207B\u208A\u208B]?([\u2070\u00B9\u00B2\u00B3\u2074-\u2079]+|[\u2080-\u2089]+))re"},
      {"FRAC", R"re(({DIGIT}{1,4}[- \u00A0])?{DIGIT}{1,4}(\\?\/|\u2044){DIGIT}{1,4})re"},
      {"FRAC2", R"re([\u00BC\u00BD\u00BE\u2153-\u215E])re"},
      {"DOLSIGN", R"re(([A-Z]*\$|#))re"},
      {"DOLSIGN2", R"re([\u00A2\u00A3\u00A4\u00A5\u0080\u20A0\u20AC\u060B\u0E3F\u20A4\uFFE0\uFFE1\uFFE5\uFFE6])re"},
      {"WORD",
       R"re(([:letter:]|{SPLET}|[\u00AD\u0237-\u024F\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02FF\u0300-\u036F\u0370-\u037D\u0384\u0385\u03CF\u03F6\u03FC-\u03FF\u0483-\u0487\u04CF\u04F6-\u04FF\u0510-\u0525\u055A-\u055F\u0591-\u05BD\u05BF\u05C1\u05C2\u05C4\u05C5\u05C7\u0615-\u061A\u063B-\u063F\u064B-\u065E\u0670\u06D6-\u06EF\u06FA-\u06FF\u070F\u0711\u0730-\u074F\u0750-\u077F\u07A6-\u07B1\u07CA-\u07F5\u07FA\u0900-\u0903\u093C\u093E-\u094E\u0951-\u0955\u0962-\u0963\u0981-\u0983\u09BC-\u09C4\u09C7\u09C8\u09CB-\u09CD\u09D7\u09E2\u09E3\u0A01-\u0A03\u0A3C\u0A3E-\u0A4F\u0A81-\u0A83\u0ABC-\u0ACF\u0B82\u0BBE-\u0BC2\u0BC6-\u0BC8\u0BCA-\u0BCD\u0C01-\u0C03\u0C3E-\u0C56\u0D3E-\u0D44\u0D46-\u0D48\u0E30-\u0E3A\u0E47-\u0E4E\u0EB1-\u0EBC\u0EC8-\u0ECD])+)re"},
      {"THING", R"re(([dDoOlL]{APOSETCETERA}([:letter:]|[:digit:]))?([:letter:]|[:digit:])+({HYPHEN}([dDoOlL]{APOSETCETERA}([:letter:]|[:digit:]))?([:letter:]|[:digit:])+)*)re"},
      {"THINGA", R"re([A-Z]+(([+&]|{SPAMP})[A-Z]+)+)re"},
      {"THING3", R"re([A-Za-z0-9]+(-[A-Za-z]+){0,2}(\\?\/[A-Za-z0-9]+(-[A-Za-z]+){0,2}){1,2})re"},
      {"APOS", R"re(['\u0092\u2019]|&apos;)re"},
      {"APOSETCETERA", R"re({APOS}|[\u0091\u2018\u201B])re"},
      {"HTHING", R"re([A-Za-z0-9][A-Za-z0-9.,\u00AD]*(-([A-Za-z0-9\u00AD]+|{ACRO}\.))+)re"},
      {"REDAUX", R"re({APOS}([msdMSD]|re|ve|ll))re"},
      {"SWORD", R"re([A-Za-z\u00AD]*[A-MO-Za-mo-z](\u00AD)*)re"},
      {"SREDAUX", R"re(n{APOSETCETERA}t)re"},
      {"APOWORD",
       R"re({APOS}n{APOS}?|[lLdDjJ]{APOS}|Dunkin{APOS}|somethin{APOS}|ol{APOS}|{APOS}em|[A-HJ-XZn]{APOSETCETERA}[:letter:]{2}[:letter:]*|{APOS}[2-9]0s|{APOS}till?|[:letter:][:letter:]*[aeiouyAEIOUY]{APOSETCETERA}[aeiouA-Z][:letter:]*|{APOS}cause|cont'd\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l)re"},
      {"APOWORD2", R"re(y{APOS})re"},
      {"FULLURL", R"re(https?:\/\/[^ \t\n\f\r\"<>|()]+[^ \t\n\f\r\"<>|.!?(){},-])re"},
      {"LIKELYURL",
       R"re(((www\.([^ \t\n\f\r\"<>|.!?(){},]+\.)+[a-zA-Z]{2,4})|(([^ \t\n\f\r\"`'<>|.!?(){},-_$]+\.)+(com|net|org|edu)))(\/[^ \t\n\f\r\"<>|()]+[^ \t\n\f\r\"<>|.!?(){},-])?)re"},
      {"EMAIL", R"re([a-zA-Z0-9][^ \t\n\f\r\"<>|()\u00A0]*@([^ \t\n\f\r\"<>|().\u00A0]+\.)+[a-zA-Z]{2,4})re"},
      {"ABMONTH", R"re(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)re"},
      {"ABDAYS", R"re(Mon|Tue|Tues|Wed|Thu|Thurs|Fri)re"},
      {"ABSTATE",
       R"re(Ala|Ariz|[A]rk|Calif|Colo|Conn|Dak|Del|Fla|Ga|[I]ll|Ind|Kans?|Ky|La|[M]ass|Md|Mich|Minn|[M]iss|Mo|Mont|Neb|Nev|Okla|[O]re|Pa|Penn|Tenn|Tex|Va|Vt|[W]ash|Wisc?|Wyo)re"},
      {"ACRO", R"re([A-Za-z](\.[A-Za-z])+|(Canada|Sino|Korean|EU|Japan|non)-U\.S|U\.S\.-(U\.K|U\.S\.S\.R))re"},
      {"ABTITLE",
       R"re(Mr|Mrs|Ms|[M]iss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|Rev|Maj|Sgt|Cpl|Pvt|Mt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det)re"},
      {"ABPTIT", R"re(Jr|Sr|Bros|(Ed|Ph)\.D|Blvd|Rd|Esq)re"},
      {"ABCOMP", R"re(Inc|Cos?|Corp|Pp?tys?|Ltd|Plc|Bancorp|Dept|Bhd|Assn|Univ|Intl|Sys)re"},
      {"ABCOMP2", R"re(Invt|Elec|Natl|M[ft]g)re"},
      {"ABNUM", R"re(Prop|Ph|tel|est|ext|sq|ft)re"},  // "No." only before a number, see the rules
      {"ABBREV1", R"re(({ABMONTH}|{ABDAYS}|{ABSTATE}|{ABCOMP}|{ABNUM}|{ABPTIT}|etc|al|seq)\.)re"},
      // "Adv" is not in the transcribed source; the 3.4.1 jar keeps "Adv." whole in every context seen.
      {"ABBREV4", R"re([A-Za-z]|{ABTITLE}|vs|Alex|Wm|Jos|Cie|a\.k\.a|cf|TREAS|Adv|{ACRO}|{ABCOMP2})re"},
      {"ABBREV2", R"re({ABBREV4}\.)re"},
      {"ACRONYM", R"re(({ACRO})\.)re"},
      {"PHONE", R"re((\([0-9]{3}\)[ \u00A0]?|[0-9]{3}[\- \u00A0.])[0-9]{3}[\- \u00A0.][0-9]{4})re"},
      {"OPBRAC", R"re([<\[]|&lt;)re"},
      {"CLBRAC", R"re([>\]]|&gt;)re"},
      {"HYPHEN", R"re([-_\u058A\u2010\u2011])re"},
      {"HYPHENS", R"re(\-+)re"},
      {"LDOTS", R"re(\.{3,5}|(\.[ \u00A0]){2,4}\.|[\u0085\u2026])re"},
      {"ATS", R"re(@+)re"},
      {"UNDS", R"re(_+)re"},
      {"ASTS", R"re(\*+|(\\\*){1,3})re"},
      {"HASHES", R"re(#+)re"},
      {"FNMARKS", R"re({ATS}|{HASHES}|{UNDS})re"},
      {"INSENTP", R"re([,;:])re"},
      {"QUOTES",
       R"re({APOS}|''|[`\u2018\u2019\u201A\u201B\u201C\u201D\u0091\u0092\u0093\u0094\u201E\u201F\u2039\u203A\u00AB\u00BB]{1,2})re"},
      {"DBLQUOT", R"re(\"|&quot;)re"},
      {"TBSPEC", R"re(-(RRB|LRB|RCB|LCB|RSB|LSB)-|C\.D\.s|pro-|anti-|S(&|&amp;)P-500|S(&|&amp;)Ls|Cap{APOS}n|c{APOS}est)re"},
      {"TBSPEC2", R"re({APOS}[0-9][0-9])re"},
      {"MISCSYMBOL",
       R"re([\u00A6\u00A7\u00A8\u00A9\u00AC\u00AE\u00AF\u00B0-\u00B3\u00B4-\u00BA\u00D7\u00F7\u0387\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0600-\u0603\u0606-\u060A\u060C\u0614\u061B\u061E\u066A\u066D\u0703-\u070D\u07F6\u07F7\u07F8\u0964\u0965\u0E4F\u2020-\u2023\u2032-\u2038\u2044\u207A-\u207F\u208A-\u208E\u2100-\u214F\u2116\u2190-\u21FF\u2200-\u22FF\u2300-\u23FF\u2600-\u26FF\u3012\u30FB\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65])re"},
  };
  return m;
}

// Replaces every {NAME} (a macro, not a {m,n} count) by its body in parentheses, recursively.
std::string expand(const std::string& pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      out += pattern.substr(i, 2);
      ++i;
      continue;
    }
    if (pattern[i] == '{' && i + 1 < pattern.size() && std::isupper(static_cast<unsigned char>(pattern[i + 1]))) {
      const std::size_t close = pattern.find('}', i);
      const std::string name = pattern.substr(i + 1, close - i - 1);
      out.push_back('(');
      out += expand(macros().at(name));
      out.push_back(')');
      i = close;
      continue;
    }
    out.push_back(pattern[i]);
  }
  return out;
}

std::u32string widen(const std::string& s) { return std::u32string(s.begin(), s.end()); }

enum class Action {
  Token,             // the matched text
  Cannot,            // "cannot": return "can", lex "not" again
  Dash,              // "--"
  Amp,               // &amp; -> &
  SoftHyphens,       // drop U+00AD
  Url,               // escape / and *
  QuoteRight,        // LaTeX quotes, probably a closing one
  QuoteLeft,         // LaTeX quotes, probably an opening one
  SlashEscape,       // escape /
  Frac,              // escape /, space -> U+00A0
  Frac2,             // composed fractions -> 1\/2 ...
  Currency,          // cent / pound / euro ... -> cents # $
  SentenceFinal,     // an abbreviation ending a sentence: without its period, lex the period again
  RepeatPeriod,      // the whole abbreviation, then lex its final period again as the full stop
  Phone,             // spaces -> U+00A0, ( ) -> -LRB- -RRB-
  OpenParen, CloseParen, OpenBrace, CloseBrace, OpenSquare, CloseSquare,
  Hyphens,           // 3 or 4 hyphens -> "--"
  Ellipsis,          // "..."
  AsteriskEscape,    // escape *
  Skip,              // whitespace and ignored characters
};

struct Rule {
  std::unique_ptr<lexer::Regex> main, trailing;
  Action action;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = [] {
    struct Spec {
      const char* main;
      const char* trailing;
      Action action;
    };
    const Spec specs[] = {
        {"cannot", nullptr, Action::Cannot},
        {"{SGML}", nullptr, Action::Token},
        {"{SPMDASH}", nullptr, Action::Dash},
        {"{SPAMP}", nullptr, Action::Amp},
        {"{SPPUNC}", nullptr, Action::Token},
        {"{WORD}", "{REDAUX}", Action::SoftHyphens},
        {"{SWORD}", "{SREDAUX}", Action::SoftHyphens},
        {"{WORD}", nullptr, Action::SoftHyphens},
        {"{APOWORD}", nullptr, Action::Token},
        {"{APOWORD2}", "[:letter:]", Action::Token},
        {"{FULLURL}", nullptr, Action::Url},
        {"{LIKELYURL}", nullptr, Action::Url},
        {"{EMAIL}", nullptr, Action::Token},
        {"{REDAUX}", "[^A-Za-z]", Action::QuoteRight},
        {"{SREDAUX}", nullptr, Action::QuoteRight},
        {"{DATE}", nullptr, Action::SlashEscape},
        {"{NUMBER}", nullptr, Action::SoftHyphens},
        {"[:letter:]([:letter:]|[:digit:])*(\\.[:letter:]([:letter:]|[:digit:])*)+", nullptr, Action::Token},
        {"{SUBSUPNUM}", nullptr, Action::Token},
        {"{FRAC}", nullptr, Action::Frac},
        {"{FRAC2}", nullptr, Action::Frac2},
        {"{TBSPEC}", nullptr, Action::Amp},
        {"{THING3}", nullptr, Action::SlashEscape},
        {"{DOLSIGN}", nullptr, Action::Token},
        {"{DOLSIGN2}", nullptr, Action::Currency},
        // Where the 3.4.1 jar differs from the older PTBLexer.flex these rules were transcribed from,
        // the rules follow the jar's observed output (checked on 67k lines, see docs/metrics.md):
        // an acronym before a typical sentence start keeps its period and the period is lexed again;
        // a single-letter (ABBREV2) abbreviation before a line break and such a word loses it.
        {"{ACRONYM}", "({SPACENL})+([A]bout|[A]ccording|[A]dditionally|[A]fter|[A]n|[A]|[A]s|[A]t|[B]ut|[E]arlier|[H]e|[H]er|[H]ere|"
         "[H]owever|[I]f|[I]n|[I]t|[L]ast|[M]any|[M]ore|[M]r\\.|[M]s\\.|[N]ow|[O]nce|[O]ne|[O]ther|[O]ur|[S]he|[S]ince|"
         "[S]o|[S]ome|[S]uch|[T]hat|[T]he|[T]hen|[T]here|[T]hese|[T]hey|[T]his|[W]e|[W]hen|[W]hile|[W]hat|[Y]et|[Y]ou){SPACENL}", Action::RepeatPeriod},
        {"{ABBREV2}", "{NEWLINE}([A]bout|[A]ccording|[A]dditionally|[A]fter|[A]n|[A]|[A]s|[A]t|[B]ut|[E]arlier|[H]e|[H]er|[H]ere|"
         "[H]owever|[I]f|[I]n|[I]t|[L]ast|[M]any|[M]ore|[M]r\\.|[M]s\\.|[N]ow|[O]nce|[O]ne|[O]ther|[O]ur|[S]he|[S]ince|"
         "[S]o|[S]ome|[S]uch|[T]hat|[T]he|[T]hen|[T]here|[T]hese|[T]hey|[T]his|[W]e|[W]hen|[W]hile|[W]hat|[Y]et|[Y]ou){SPACENL}", Action::SentenceFinal},
        {"Nos?\\.", "({SPACENL})*[:digit:]", Action::Token},
        {"{ABBREV1}", "{SENTEND}", Action::RepeatPeriod},
        {"{ABBREV1}", nullptr, Action::Token},
        {"{ABBREV2}", nullptr, Action::Token},
        {"{ABBREV4}", "{SPACE}", Action::Token},
        {"{ACRO}", "{SPACENL}", Action::Token},
        {"{TBSPEC2}", "{SPACENL}", Action::Token},
        {"{WORD}\\.", "{INSENTP}", Action::SoftHyphens},
        {"{PHONE}", nullptr, Action::Phone},
        {"{DBLQUOT}", "[A-Za-z0-9$]", Action::QuoteLeft},
        {"{DBLQUOT}", nullptr, Action::QuoteRight},
        {"\\+", nullptr, Action::Token},
        {"[%&\\u2030\\u2031]", nullptr, Action::Token},
        {"\\~|\\^", nullptr, Action::Token},
        {"\\||\\\\|0x7f", nullptr, Action::Skip},
        {"\\[", nullptr, Action::OpenSquare},
        {"\\]", nullptr, Action::CloseSquare},
        {"{OPBRAC}", nullptr, Action::Token},  // the 3.4.1 jar leaves < > as they are
        {"{CLBRAC}", nullptr, Action::Token},
        {"\\{", nullptr, Action::OpenBrace},
        {"\\}", nullptr, Action::CloseBrace},
        {"\\(", nullptr, Action::OpenParen},
        {"\\)", nullptr, Action::CloseParen},
        {"{HYPHENS}", nullptr, Action::Hyphens},
        {"{LDOTS}", nullptr, Action::Ellipsis},
        {"{FNMARKS}", nullptr, Action::Token},
        {"{ASTS}", nullptr, Action::AsteriskEscape},
        {"{INSENTP}", nullptr, Action::Token},
        {"[?!]+", nullptr, Action::Token},
        {"[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA]", nullptr, Action::Token},
        {"=", nullptr, Action::Token},
        {"\\/", nullptr, Action::SlashEscape},
        {"{HTHING}\\.", "{INSENTP}", Action::SoftHyphens},
        {"{HTHING}", nullptr, Action::SoftHyphens},
        {"{THING}\\.", "{INSENTP}", Action::Token},
        {"{THING}", nullptr, Action::Token},
        {"{THINGA}\\.", "{INSENTP}", Action::Amp},
        {"{THINGA}", nullptr, Action::Amp},
        {"'", "[A-Za-z][^ \\t\\n\\r\\u00A0]", Action::QuoteLeft},
        {"{REDAUX}", nullptr, Action::QuoteRight},
        {"{QUOTES}", nullptr, Action::QuoteRight},
        {"{MISCSYMBOL}", nullptr, Action::Token},
        {"\\u0000|{SPACES}|[\\u200B\\u200E-\\u200F\\uFEFF]", nullptr, Action::Skip},
        {"{NEWLINE}", nullptr, Action::Skip},
        {"&nbsp;", nullptr, Action::Skip},
        {".", nullptr, Action::Skip},  // untokenizable: deleted (option "firstDelete")
    };
    std::vector<Rule> built;
    for (const Spec& s : specs) {
      Rule r;
      r.main = std::make_unique<lexer::Regex>(widen(expand(s.main)), true);
      if (s.trailing) r.trailing = std::make_unique<lexer::Regex>(widen(expand(s.trailing)), true);
      r.action = s.action;
      built.push_back(std::move(r));
    }
    return built;
  }();
  return table;
}

std::u32string replace_chars(const std::u32string& s, std::u32string_view from, std::u32string_view to) {
  std::u32string out;
  for (char32_t c : s) {
    if (from.find(c) != std::u32string_view::npos)
      out += to;
    else
      out.push_back(c);
  }
  return out;
}

std::u32string replace_text(const std::u32string& s, std::u32string_view from, std::u32string_view to) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

std::u32string latex_quotes(const std::u32string& tok, bool probably_left) {
  std::u32string s = replace_text(tok, U"&apos;", U"'");
  s = replace_text(s, U"&quot;", U"\"");
  s = replace_chars(s, U"'", probably_left ? U"`" : U"'");
  s = replace_chars(s, U"\"", probably_left ? U"``" : U"''");
  s = replace_chars(s, U"\u0091\u2018\u201B\u2039", U"`");
  s = replace_chars(s, U"\u0092\u2019\u203A", U"'");
  s = replace_chars(s, U"\u0093\u201C\u00AB", U"``");
  s = replace_chars(s, U"\u0094\u201D\u00BB", U"''");
  return s;
}

std::string to_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> ptb_tokenize_lines(const std::vector<std::string>& lines) {
  // The wrapper writes the lines joined by "\n" to one file; the lexer reads it as one text
  // (its trailing contexts may look at the next line) and -preserveLines puts each token on the
  // line where it starts.
  std::u32string text;
  std::vector<std::size_t> line_of;  // line index of every code point of text
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) {
      text.push_back('\n');
      line_of.push_back(i - 1);
    }
    for (std::size_t pos = 0; pos < lines[i].size();) {
      text.push_back(next_code_point(lines[i], pos));
      line_of.push_back(i);
    }
  }
  const auto& table = rules();
  std::vector<std::vector<std::string>> tokens(lines.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    // JFlex: the longest match wins (trailing context counts), the earlier rule on a tie.
    long best_total = -1, best_token = -1;
    const Rule* best = nullptr;
    for (const Rule& rule : table) {
      if (!rule.main->can_start_with(text[pos])) continue;
      long total = -1, token = -1;
      if (!rule.trailing) {
        total = token = rule.main->longest(text, pos);
      } else {
        for (std::size_t len : rule.main->match_lengths(text, pos)) {
          if (len == 0) continue;
          const long tail = rule.trailing->longest(text, pos + len);
          if (tail >= 0 && long(len) + tail >= total) {
            total = long(len) + tail;
            token = long(len);
          }
        }
      }
      if (token > 0 && total > best_total) {
        best_total = total;
        best_token = token;
        best = &rule;
      }
    }
    std::u32string tok = text.substr(pos, std::size_t(best_token));
    std::size_t consumed = std::size_t(best_token);
    std::u32string out;
    switch (best->action) {
      case Action::Token: out = tok; break;
      case Action::Cannot:  // "can", then "not" is lexed again
        consumed = 3;
        out = tok.substr(0, 3);
        break;
      case Action::Dash: out = U"--"; break;
      case Action::Amp: out = replace_text(replace_text(tok, U"&amp;", U"&"), U"&AMP;", U"&"); break;
      case Action::SoftHyphens: out = replace_chars(tok, U"\u00AD", U""); break;
      case Action::Url: out = tok; break;
      case Action::QuoteRight: out = latex_quotes(tok, false); break;
      case Action::QuoteLeft: out = latex_quotes(tok, true); break;
      case Action::SlashEscape: out = tok; break;
      case Action::Frac: out = replace_chars(tok, U" ", U"\u00A0"); break;
      case Action::Frac2:
        out = replace_text(replace_text(replace_text(replace_text(tok, U"\u00BC", U"1\\/4"), U"\u00BD", U"1\\/2"),
                                        U"\u00BE", U"3\\/4"),
                           U"\u2153", U"1\\/3");
        break;
      case Action::Currency:
        out = replace_chars(replace_chars(replace_chars(tok, U"\u00A2", U"cents"), U"\u00A3", U"#"),
                            U"\u0080\u00A4\u20A0\u20AC", U"$");
        break;
      case Action::RepeatPeriod:
        out = tok;
        consumed -= 1;
        break;
      case Action::SentenceFinal:  // the abbreviation without its period, which is lexed again
        consumed -= 1;
        out = tok.substr(0, consumed);
        break;
      case Action::Phone:
        out = replace_chars(replace_chars(replace_chars(tok, U" ", U"\u00A0"), U"(", U"-LRB-"), U")", U"-RRB-");
        break;
      case Action::OpenParen: out = U"-LRB-"; break;
      case Action::CloseParen: out = U"-RRB-"; break;
      case Action::OpenBrace: out = U"-LCB-"; break;
      case Action::OpenSquare: out = U"-LSB-"; break;
      case Action::CloseSquare: out = U"-RSB-"; break;
      case Action::CloseBrace: out = U"-RCB-"; break;
      case Action::Hyphens: out = (tok.size() >= 3 && tok.size() <= 4) ? U"--" : tok; break;
      case Action::Ellipsis: out = U"..."; break;
      case Action::AsteriskEscape: out = tok; break;
      case Action::Skip: break;
    }
    if (best->action != Action::Skip) tokens[line_of[pos]].push_back(unicode_lower(to_utf8(out)));
    pos += consumed;
  }
  return tokens;
}

std::vector<std::string> ptb_tokenize(std::string_view line) {
  // A caption's own newlines become spaces, as in the wrapper.
  std::string one(line);
  for (char& c : one)
    if (c == '\n') c = ' ';
  return ptb_tokenize_lines({one})[0];
}

namespace {
std::string drop_punctuation(const std::vector<std::string>& tokens) {
  static const char* const kPunctuations[] = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".",
                                              "?",  "!", ",",  ":", "-",     "--",    "...",   ";"};
  std::string out;
  bool first = true;
  for (const std::string& token : tokens) {
    bool punctuation = false;
    for (const char* p : kPunctuations) punctuation = punctuation || token == p;
    if (punctuation) continue;
    if (!first) out.push_back(' ');
    out += token;
    first = false;
  }
  return out;
}
}  // namespace

std::vector<std::string> coco_tokenize_lines(const std::vector<std::string>& captions) {
  std::vector<std::string> lines;
  for (const std::string& c : captions) {
    std::string one = c;
    for (char& ch : one)
      if (ch == '\n') ch = ' ';
    lines.push_back(std::move(one));
  }
  std::vector<std::string> out;
  for (const auto& tokens : ptb_tokenize_lines(lines)) out.push_back(drop_punctuation(tokens));
  return out;
}

std::string coco_tokenize(std::string_view caption) { return coco_tokenize_lines({std::string(caption)})[0]; }

}  // namespace petl::metrics
