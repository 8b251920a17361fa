"""The one table of probe/steer sites. The C++ runtime reads it back from manifest.json.

Each site is a point inside every decoder layer where the exported module can capture the
activation and steer it. `units` is the number of values per token per layer that steering
tensors address; `score_units` is the granularity used for ranking (heads: one score per head,
the mean over head_dim, as in the SADI paper).
"""
from typing import Dict, List

# Order matters: it is the order sites appear inside a decoder layer.
SITE_NAMES: List[str] = ["head", "neuron", "hidden", "residual"]

SITE_DOC: Dict[str, str] = {
    "head": "per-head attention output before o_proj, softmax(QK^T/sqrt(Dh))V, [n_heads, head_dim]",
    "neuron": "MLP activation output act_fn(gate_proj(x)), before the product with up_proj(x)",
    "hidden": "MLP block output down_proj(...), before the residual add",
    "residual": "decoder layer output (residual stream after the layer)",
}


def site_table(n_layers: int, n_heads: int, head_dim: int, d_model: int, d_ffn: int) -> List[dict]:
    """Returns the manifest's site table: shapes per token and steering/score unit counts."""
    shapes = {
        "head": [n_layers, n_heads, head_dim],
        "neuron": [n_layers, d_ffn],
        "hidden": [n_layers, d_model],
        "residual": [n_layers, d_model],
    }
    table = []
    for name in SITE_NAMES:
        shape = shapes[name]
        units = 1
        for s in shape[1:]:
            units *= s
        table.append({
            "name": name,
            "shape": shape,                      # per token, all layers
            "units": units,                      # values per layer addressed by steering
            "score_units": shape[1],             # ranked elements per layer
            "group": shape[2] if len(shape) == 3 else 1,  # values per ranked element
            "doc": SITE_DOC[name],
        })
    return table
