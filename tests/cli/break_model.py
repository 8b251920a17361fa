"""Makes a broken copy of a model directory for the bad-input catalogue (tests/cli/catalogue.sh).

Usage: break_model.py KIND SRC_DIR DST_DIR
  nan-weight      one row of the embedding (a row the exporter's parity prompt never reads) is NaN
  inf-weight      one value of the last layer's down projection is +inf
  wrong-structure model.ts whose forward returns one tensor, not (logits, captures)
  heads-disagree  manifest.json says 8 heads of 8 (the same 64 units) where model.ts has 4 of 16
  ffn-disagree    manifest.json's d_ffn (and the neuron site) larger than model.ts's
Runs on a Python with torch (tests choose it: PYTHON, default .venv/bin/python).
"""
import json
import os
import shutil
import sys
from typing import Dict, List, Tuple

import torch
from torch import Tensor


class WrongStructure(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.batch_invariant = False

    def forward(self, input_ids: Tensor, positions: Tensor, key_mask: Tensor, start: int,
                cache_k: List[Tensor], cache_v: List[Tensor], logits_at: Tensor,
                steer: Dict[str, Tensor], capture: Dict[str, Tensor]) -> Tensor:
        return input_ids.float()


def load(path: str) -> Tuple[torch.jit.ScriptModule, Dict[str, str]]:
    extra = {"sadi_fingerprint": ""}
    return torch.jit.load(path, _extra_files=extra), extra


def save(module, extra, model_dir: str) -> None:
    path = os.path.join(model_dir, "model.ts")
    torch.jit.save(module, path, _extra_files=extra)
    manifest = os.path.join(model_dir, "manifest.json")
    j = json.load(open(manifest))
    j["model_file"]["bytes"] = os.path.getsize(path)  # the size check passes: the content is what is wrong
    json.dump(j, open(manifest, "w"), indent=2)


def edit_manifest(model_dir: str, fn) -> None:
    p = os.path.join(model_dir, "manifest.json")
    j = json.load(open(p))
    fn(j)
    json.dump(j, open(p, "w"), indent=2)


def main() -> None:
    kind, src, dst = sys.argv[1:4]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    ts = os.path.join(dst, "model.ts")
    if kind in ("nan-weight", "inf-weight"):
        m, extra = load(ts)
        with torch.no_grad():
            if kind == "nan-weight":
                w = m.embed_tokens.weight
                w[w.size(0) - 3].fill_(float("nan"))
            else:
                layer = list(m.layers.children())[-1]
                layer.mlp.down_proj.weight[0, 0] = float("inf")
        save(m, extra, dst)
    elif kind == "wrong-structure":
        _, extra = load(ts)
        save(torch.jit.script(WrongStructure()), extra, dst)
    elif kind == "heads-disagree":
        def heads(j):
            j["dims"]["n_heads"], j["dims"]["head_dim"], j["dims"]["n_kv_heads"] = 8, 8, 4
            for s in j["sites"]:
                if s["name"] == "head":
                    s["shape"], s["score_units"], s["group"] = [j["dims"]["n_layers"], 8, 8], 8, 8
        edit_manifest(dst, heads)
    elif kind == "ffn-disagree":
        def ffn(j):
            j["dims"]["d_ffn"] += 40
            for s in j["sites"]:
                if s["name"] == "neuron":
                    s["shape"], s["units"], s["score_units"] = [j["dims"]["n_layers"], j["dims"]["d_ffn"]], j["dims"]["d_ffn"], j["dims"]["d_ffn"]
        edit_manifest(dst, ffn)
    else:
        sys.exit(f"break_model.py: unknown kind '{kind}'")


if __name__ == "__main__":
    main()
