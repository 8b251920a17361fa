"""The weight matrices one decoded token reads, from an exported model's manifest.json:
per layer q, k, v, o, gate, up, down as (out, in), then the output head (vocab, d)."""
import json
import os


def decode_shapes(model_dir):
    d = json.load(open(os.path.join(model_dir, "manifest.json"), encoding="utf-8"))["dims"]
    dm, hd, ffn = d["d_model"], d["head_dim"], d["d_ffn"]
    q, kv = d["n_heads"] * hd, d["n_kv_heads"] * hd
    layer = [(q, dm), (kv, dm), (kv, dm), (dm, q), (ffn, dm), (ffn, dm), (dm, ffn)]
    return layer * d["n_layers"] + [(d["vocab_size"], dm)]
