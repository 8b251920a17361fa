"""The exporter's architecture registry (scripts/sadi_export/archs/): each Hugging Face class
maps to one Architecture whose ArchSpec has the typed fields the module is built from."""
import pytest

from sadi_export.archs import REGISTRY, ArchSpec, ConfigError
from sadi_export.archs.registry import lookup

LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 96,
         "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100}


def spec_of(cfg):
    return lookup("config.json", cfg).spec("config.json", cfg)


def test_every_class_is_registered_once_under_its_model_type():
    assert set(REGISTRY) >= {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
                             "Phi3ForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM", "GPT2LMHeadModel",
                             "BloomForCausalLM"}
    for hf_class, cls in REGISTRY.items():
        assert hf_class in cls.hf_classes and cls.name and cls.model_type


def test_llama_family_fields():
    s = spec_of(LLAMA)
    assert isinstance(s, ArchSpec)
    assert (s.norm, s.positions, s.mlp, s.activation) == ("rms", "rope", "gated", "silu")
    assert s.head_dim == 16 and s.rope_theta == 10000.0 and s.rope_scaling is None
    q2 = spec_of({**LLAMA, "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]})
    assert q2.qkv_bias and not q2.o_bias
    # attention_bias covers o_proj in Llama but only q/k/v in Qwen
    assert spec_of({**LLAMA, "attention_bias": True}).o_bias
    q2b = spec_of({**LLAMA, "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "attention_bias": True})
    assert q2b.qkv_bias and not q2b.o_bias
    assert spec_of({**LLAMA, "model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"]}).qk_norm
    g2 = spec_of({**LLAMA, "model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "hidden_act": "gelu",
                  "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "query_pre_attn_scalar": 64})
    assert (g2.norm_offset, g2.activation, g2.sandwich_norms, g2.tied_embeddings) == (1.0, "gelu_tanh", True, True)
    assert (g2.attn_softcap, g2.final_softcap, g2.attn_scale) == (50.0, 30.0, 64 ** -0.5)
    assert g2.embed_scale == 64 ** 0.5
    ph = spec_of({**LLAMA, "model_type": "phi3", "architectures": ["Phi3ForCausalLM"], "sliding_window": 32})
    assert ph.fused_projections and ph.max_positions == 32


def test_gpt2_and_bloom_have_no_rotation():
    g = spec_of({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100, "n_positions": 128})
    assert (g.norm, g.positions, g.mlp, g.tied_embeddings) == ("layer", "learned", "plain", True)
    assert g.manifest_entries()["positions"] == {"kind": "learned"}
    b = spec_of({"model_type": "bloom", "hidden_size": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100})
    assert (b.positions, b.embed_norm, b.norm) == ("alibi", True, "layer")


@pytest.mark.parametrize("cfg,key", [
    ({**LLAMA, "model_type": "falcon"}, "'model_type'"),
    ({**LLAMA, "architectures": ["GPT2LMHeadModel"]}, "'architectures'"),
    ({**LLAMA, "hidden_act": "relu"}, "'hidden_act'"),
    ({**LLAMA, "num_key_value_heads": 3}, "'num_key_value_heads'"),
    ({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100, "n_positions": 0},
     "'n_positions'"),
])
def test_refusals_name_the_field(cfg, key):
    with pytest.raises(ConfigError, match=key):
        spec_of(cfg)


def test_spec_refuses_values_outside_its_vocabulary():
    with pytest.raises(ValueError, match="ArchSpec.positions"):
        ArchSpec("x", "X", 1, 1, 1, 2, 2, 2, 2, 2, positions="sinusoidal")
