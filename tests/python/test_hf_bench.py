"""scripts/bench/hf_bench.py's identify and grid-point peers run against a stand-in with the
shape of a transformers Llama (model.model.layers[i].self_attn.o_proj, config, logits and
hidden_states), since transformers itself is not installed on the CPU machines: both run end to
end (16 pairs per forward; one forward per example), print their figures and remove their hooks."""
import os
import sys
import types

import pytest
import sentencepiece as spm
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
import hf_bench  # noqa: E402

DATA = os.environ.get("SADI_TESTDATA")
pytestmark = pytest.mark.skipif(not DATA, reason="needs SADI_TESTDATA (run through ctest)")


class Attn(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.o_proj = torch.nn.Linear(d, d, bias=False)


class Layer(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.self_attn = Attn(d)

    def forward(self, x):
        return x + self.self_attn.o_proj(torch.tanh(x))


class FakeLlama(torch.nn.Module):
    def __init__(self, vocab=512, d=16, n_layers=2, n_heads=4):
        super().__init__()
        self.config = types.SimpleNamespace(num_attention_heads=n_heads, hidden_size=d)
        self.model = torch.nn.Module()
        self.model.layers = torch.nn.ModuleList([Layer(d) for _ in range(n_layers)])
        self.embed = torch.nn.Embedding(vocab, d)
        self.head = torch.nn.Linear(d, vocab, bias=False)
        self.seen = []

    def forward(self, input_ids, attention_mask=None, output_hidden_states=False):
        x = self.embed(input_ids)
        hs = [x]
        for layer in self.model.layers:
            x = layer(x)
            hs.append(x)
        self.seen.append(input_ids.shape)
        return types.SimpleNamespace(logits=self.head(x), hidden_states=tuple(hs))


def test_peers_run_on_a_stand_in():
    model = FakeLlama().eval()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(DATA or "", "llama", "tokenizer.model"))
    line = hf_bench.identify_peer(model, sp, torch.device("cpu"), lambda: None, n_pairs=40, per_batch=16)
    assert "40 pairs" in line and "pairs/s" in line
    assert [s[0] for s in model.seen] == [32, 32, 16]  # 16 pairs (32 sequences) per forward
    edited = []
    layer0 = model.model.layers[0].self_attn.o_proj
    probe = layer0.register_forward_pre_hook(lambda m, a: edited.append(a[0].clone()))
    line = hf_bench.grid_point_peer(model, sp, torch.device("cpu"), lambda: None, n_items=4, k=8, delta=9.0)
    probe.remove()
    assert "4 in" in line and "examples/s" in line
    assert not model.model.layers[0].self_attn.o_proj._forward_pre_hooks  # the peer removed its hooks
    assert len(edited) == 4
