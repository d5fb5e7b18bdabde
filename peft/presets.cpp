#include "peft/presets.h"

#include "tensor/error.h"

namespace petl::peft {

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = {
      {"full", "full", "full fine-tuning (PEFT.md §1)"},
      {"ft-top-2", "ft_top:k=2,embedding=true", "Li & Liang's FT-top2: h.L-2, h.L-1, ln_f, wte (PEFT.md §1)"},
      {"bitfit", "bitfit", "Ben Zaken et al.: every bias and LayerNorm beta (PEFT.md §10)"},
      {"lora", "lora:r=4,alpha=32,dropout=0.1,rslora=false@q,v",
       "Hu et al. GPT-2 E2E: q and v of c_attn, r=4, alpha=32, lora_dropout 0.1 (PEFT.md §5.5)"},
      {"lora-peft", "lora:r=8,alpha=8,dropout=0,rslora=false@qkv",
       "Hugging Face peft's gpt2 default: the whole fused c_attn, r=8, alpha=8 (PEFT.md §5.2)"},
      {"ia3", "ia3@k,v,ffn_hidden", "Liu et al.: l_k, l_v, l_ff (PEFT.md §11.2)"},
      {"ia3-peft", "ia3@qkv,ffn_hidden", "Hugging Face peft's gpt2 default: c_attn and mlp.c_proj (PEFT.md §11.2)"},
      {"prefix", "prefix:l=5,reparam=mlp,k=512@attn", "Li & Liang GPT-2 E2E: P=5, mid_dim 512 (PEFT.md §3.7)"},
      {"prompt", "prompt:l=100@input", "Lester et al.: 100 prompt vectors (PEFT.md §4.3)"},
      {"houlsby", "sequential:r=64,act=gelu_tanh,init=houlsby,input=h,train_ln=true@attn,ffn",
       "Houlsby et al.: m=64, GELU, trunc_normal(1e-2), LayerNorms train (PEFT.md §2)"},
      {"pfeiffer", "sequential:r=d/16,act=relu,init=bert,input=residual_sum,train_ln=false@ffn",
       "AdapterHub SeqBnConfig: reduction factor 16, ReLU, after the FFN (PEFT.md §2.7)"},
      {"parallel", "parallel:r=512,s=1,init=bert,input=sublayer_in@ffn",
       "He et al. PA(ffn) r=512, bert init, plain addition (PEFT.md §6)"},
      {"scaled-parallel", "parallel:r=512,s=4,init=lora,input=sublayer_in@ffn",
       "He et al. scaled PA(ffn) r=512, s=4, lora init (PEFT.md §8)"},
      {"par-bn", "parallel:r=d/2,s=4,init=lora,input=residual@ffn",
       "AdapterHub ParBnConfig: reduction factor 2, s=4, reads the residual (PEFT.md §6.6)"},
      {"multihead-parallel", "mh_parallel:r=30,reparam=mlp,k=800,dropout=0@heads",
       "He et al. MH PA(attn) r=30 (0.1%), [UV] cross_attn_relu (PEFT.md §7)"},
      {"mam", "prefix:l=30,reparam=mlp,k=800@attn + parallel:r=512,s=4,init=lora,input=sublayer_in@ffn",
       "He et al. MAM: prefix l=30 (mid_dim 800) + scaled PA(ffn) r=512, s=4 (PEFT.md §9)"},
  };
  return list;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets()) names.push_back(p.name);
  return names;
}

bool is_preset(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return true;
  return false;
}

const std::string& preset_spec(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return p.spec;
  std::string names;
  for (const auto& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error("peft: unknown preset '" + name + "'; presets: " + names);
}

}  // namespace petl::peft
