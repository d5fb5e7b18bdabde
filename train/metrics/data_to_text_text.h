// The text preprocessing the official WebNLG 2017 and DART evaluations apply before BLEU, METEOR
// and TER (docs/metrics.md, "WebNLG and DART: the official reference files"). Both score against
// reference files made from the XML / JSON texts by a Python script, and the system outputs go
// through the same steps, so petl scores the raw texts after exactly these steps.
//
// WebNLG 2017, webnlg-automatic-evaluation/evaluation.py (the challenge's scorer; also shipped
// in Yale-LILY/dart evaluation/ and run by run_eval_on_webnlg.sh):
//   reference (bleu_ref_files_gen, ter_ref_files_gen):
//       unidecode(' '.join(' '.join(re.split('(\W)', lex)).split()).lower())
//   output (read_participant, then write_to_file):
//       item = unidecode(line.strip());  ' '.join(' '.join(re.split('(\W)', unidecode(item.lower()))).split())
//
// DART, Yale-LILY/dart evaluation/dart_reference/all-delex-reference{0,1,2}.lex (what
// run_eval_on_dart.sh scores against): lowercased, re.split('(\W)')-tokenized texts, non-ASCII
// kept; the script that wrote them is not published, the steps are those of LoRA's
// gpt2_decode.py post_process(--lower --tokenize), which the LoRA paper ran on its DART (and
// WebNLG) references and outputs:
//       stardard_tokenize(text.lower())   (both references and outputs)
#pragma once
#include <string>
#include <string_view>

namespace petl::metrics {

std::string webnlg_challenge_reference(std::string_view lex);
std::string webnlg_challenge_output(std::string_view line);
std::string dart_text(std::string_view text);

}  // namespace petl::metrics
