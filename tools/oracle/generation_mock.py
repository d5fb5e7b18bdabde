"""A deterministic toy language model for checking petl's decoding loops against transformers'.

The model's next-token logits are a hash of the row's real tokens (those the attention mask keeps,
plus everything generated), so the same function written in C++ (tests/test_generate.cpp,
MockStepModel) gives bit-identical float32 logits. Every logit is k/64 - 8 + v/65536 for an integer
k, exactly representable in float32, and distinct within a row, so argmax never ties.

Wrapped as a transformers PreTrainedModel (no KV cache: the whole sequence is re-read each step),
it runs through transformers' own generate(): greedy search, beam search and its logits processors.
"""

import torch
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

MASK64 = (1 << 64) - 1


def mix64(x: int) -> int:
    """SplitMix64's finalizer, as petl::mix64 (tensor/random.h)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def mock_logits(tokens: list[int], vocab_size: int, eos_token_id: int, eos_bonus: float) -> list[float]:
    h = 0xCBF29CE484222325
    for t in tokens:
        h = mix64(h ^ (t + 1))
    out = []
    for v in range(vocab_size):
        k = mix64(h ^ (v * 0x100000001B3)) % 1024
        value = k / 64.0 - 8.0 + v / 65536.0
        if v == eos_token_id:
            value += eos_bonus
        out.append(value)
    return out


class MockConfig(PretrainedConfig):
    model_type = "petl_generation_mock"

    def __init__(self, vocab_size=16, eos_bonus=1.5, **kwargs):
        self.vocab_size = vocab_size
        self.eos_bonus = eos_bonus
        super().__init__(**kwargs)


class MockLM(PreTrainedModel, GenerationMixin):
    config_class = MockConfig

    def __init__(self, config):
        super().__init__(config)
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None, **kwargs):
        batch, length = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        logits = torch.zeros(batch, length, self.config.vocab_size, dtype=torch.float32)
        eos = self.config.eos_token_id if self.config.eos_token_id is not None else -1
        if isinstance(eos, list):
            eos = eos[0]
        for b in range(batch):
            real = [int(t) for t, m in zip(input_ids[b].tolist(), attention_mask[b].tolist()) if m]
            row = mock_logits(real, self.config.vocab_size, eos, self.config.eos_bonus)
            logits[b, -1] = torch.tensor(row, dtype=torch.float64).to(torch.float32)
        return CausalLMOutputWithPast(logits=logits)
