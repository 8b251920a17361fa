"""Exports a Hugging Face Llama-family checkpoint directory to a sadi model directory."""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
from typing import Dict, List, Optional

import torch

from . import FORMAT_VERSION, TOOL_VERSION
from .archs import ArchSpec, ConfigError, ExportError, architecture_of, read_config
from .modeling import CausalLM
from .sites import site_table
from .weights import WeightsError, load_state_dict

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# max |logit difference| allowed, relative to max(1, max |logit|)
TOLERANCE = {"float32": 1e-4, "float16": 2e-2, "bfloat16": 6e-2}


def log(msg: str) -> None:
    print(f"export_hf: {msg}", file=sys.stderr, flush=True)


def build_module(arch: ArchSpec, weights: Dict[str, torch.Tensor], dtype: torch.dtype, hf_dir: str) -> CausalLM:
    model = CausalLM(arch)
    expected = model.state_dict()
    missing = sorted(k for k in expected if k not in weights and k != "inv_freq")
    unexpected = sorted(k for k in weights if k not in expected)
    if missing:
        raise ExportError(f"{hf_dir}: missing tensor(s): {', '.join(missing[:8])}"
                          + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    if unexpected:
        raise ExportError(f"{hf_dir}: unexpected tensor(s) (unsupported architecture variant?): "
                          + ", ".join(unexpected[:8]))
    for k, t in weights.items():
        if tuple(t.shape) != tuple(expected[k].shape):
            raise ExportError(f"{hf_dir}: tensor '{k}': expected shape {list(expected[k].shape)} "
                              f"from config.json, found {list(t.shape)}")
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(weights[name].to(torch.float32))
    return cast_parameters(model, dtype).eval()


def cast_parameters(model, dtype: torch.dtype):
    """Casts parameters only; buffers (the float32 rotary frequencies) keep their dtype.
    The C++ runtime's --dtype does the same."""
    for p in model.parameters():
        p.data = p.data.to(dtype)
    return model


def fingerprint(model: CausalLM) -> str:
    """sha256 over every parameter's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name, p in sorted(model.named_parameters()):
        t = p.detach().contiguous().cpu()
        h.update(f"{name}|{t.dtype}|{list(t.shape)}\n".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return "sha256:" + h.hexdigest()


def parity_inputs(vocab: int, device: str):
    """A left-padded batch of two rows (lengths 9 and 6) and its per-row unpadded ids."""
    g = torch.Generator().manual_seed(1234)
    rows = [torch.randint(3, vocab, (n,), generator=g) for n in (9, 6)]
    t = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), t, dtype=torch.int64)
    mask = torch.zeros(len(rows), t, dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, t - len(r):] = r
        mask[i, t - len(r):] = True
    pos = (mask.long().cumsum(1) - 1).clamp(min=0)
    return rows, ids.to(device), pos.to(device), mask.to(device)


def run(model, ids, pos, mask, cache_k: Optional[List[torch.Tensor]] = None, start: int = 0,
        cache_v: Optional[List[torch.Tensor]] = None):
    b, t = ids.shape
    at = torch.arange(t, device=ids.device).unsqueeze(0).expand(b, t).contiguous()
    logits, _ = model(ids, pos, mask, start, cache_k or [], cache_v or [], at, {}, {})
    return logits


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


def check_parity(eager, scripted, reloaded, arch, hf_dir, dtype_name, device, weights_dtype_name=None) -> dict:
    """dtype_name: the dtype the check runs in (its tolerance); weights_dtype_name: the dtype the
    weights were rounded to (transformers' copy is rounded the same way), default dtype_name."""
    rows, ids, pos, mask = parity_inputs(arch.vocab_size, device)
    with torch.no_grad():
        ref = run(eager, ids, pos, mask)
        res = {"eager_vs_scripted": max_diff(ref, run(scripted, ids, pos, mask)),
               "scripted_vs_reloaded": max_diff(ref, run(reloaded, ids, pos, mask))}
        # KV cache: prefill all but the last token, decode the last one, compare with full.
        b, t = ids.shape
        dt = next(reloaded.parameters()).dtype
        shape = (b, arch.n_kv_heads, t, arch.head_dim)
        ck = [torch.zeros(shape, dtype=dt, device=device) for _ in range(arch.n_layers)]
        cv = [torch.zeros(shape, dtype=dt, device=device) for _ in range(arch.n_layers)]
        run(reloaded, ids[:, :-1], pos[:, :-1], mask[:, :-1], ck, 0, cv)
        last = run(reloaded, ids[:, -1:], pos[:, -1:], mask, ck, t - 1, cv)
        res["cache_decode_vs_full"] = max_diff(ref[:, -1:], last)
        scale = max(1.0, ref.abs().max().item())
        hf = hf_logits(hf_dir, rows, weights_dtype_name or dtype_name, device, dt)
        if hf is not None:
            res["vs_transformers"] = max(max_diff(ref[i, t - len(r):], hf[i]) for i, r in enumerate(rows))
    res["tolerance"] = TOLERANCE[dtype_name] * scale
    res["logit_scale"] = scale
    return res


def hf_logits(hf_dir: str, rows, dtype_name: str, device: str, compute_dtype):
    """transformers' logits of each row: weights loaded as dtype_name, run in compute_dtype (the
    dtype the exported model is checked in: float32 for float16 on CPU)."""
    try:
        import transformers  # noqa: F401
    except ImportError:  # a Python without transformers (.venv has it): the check is skipped, and said so
        log("transformers is not importable: parity against it skipped")
        return None
    import transformers
    from transformers import AutoModelForCausalLM
    # transformers 5 renamed torch_dtype to dtype
    key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    rounded = compute_dtype != DTYPES[dtype_name]
    # Rounded: float32 weights rounded to dtype_name, run in compute_dtype. Only the parameters
    # are rounded; buffers (RoPE's inv_freq) stay float32, as in the exported model.
    model = AutoModelForCausalLM.from_pretrained(hf_dir, attn_implementation="eager",
                                                 **{key: torch.float32 if rounded else DTYPES[dtype_name]})
    model = model.to(device).eval()
    if rounded:
        with torch.no_grad():
            for p in model.parameters():
                p.data = p.data.to(DTYPES[dtype_name]).to(compute_dtype)
    out = []
    for r in rows:
        out.append(model(r.unsqueeze(0).to(device)).logits[0].float())
    return out


def post_processor_adds_bos(path: str) -> bool:
    """True when tokenizer.json's post-processor puts a special token first (Llama 3's BOS)."""
    with open(path, encoding="utf-8") as f:
        post = json.load(f).get("post_processor") or {}
    steps = post.get("processors", [post]) if post.get("type") == "Sequence" else [post]
    for p in steps:
        if p.get("type") == "TemplateProcessing" and p.get("single"):
            return "SpecialToken" in p["single"][0]
    return False


def tokenizer_entry(hf_dir: str, out_dir: str, arch: ArchSpec) -> dict:
    tcfg = {}
    p = os.path.join(hf_dir, "tokenizer_config.json")
    if os.path.isfile(p):
        with open(p, encoding="utf-8") as f:
            tcfg = json.load(f)
    if tcfg:  # the chat template travels with the model (scripts/chat_template.py reads it there)
        shutil.copyfile(p, os.path.join(out_dir, "tokenizer_config.json"))
    for name, kind in (("tokenizer.model", "sentencepiece"), ("tokenizer.json", "hf-tokenizer-json")):
        src = os.path.join(hf_dir, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(out_dir, name))
            default_bos = (bool(arch.bos_token_id) if kind == "sentencepiece"
                           else post_processor_adds_bos(src))
            add_bos = tcfg.get("add_bos_token")
            return {"file": name, "kind": kind,
                    "add_bos": bool(default_bos if add_bos is None else add_bos)}
    raise ExportError(f"{hf_dir}: no tokenizer found (expected tokenizer.model or tokenizer.json)")


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def source_entry(hf_dir: str) -> dict:
    """Where the weights came from: the checkpoint folder, and for a checkpoint made by
    scripts/import_gguf.py the GGUF file's provenance (its sha256, tensor types) from sadi_import.json."""
    entry = {"hf_dir": os.path.abspath(hf_dir), "config_sha256": file_sha256(os.path.join(hf_dir, "config.json"))}
    imported = os.path.join(hf_dir, "sadi_import.json")
    if os.path.isfile(imported):
        try:
            with open(imported, encoding="utf-8") as f:
                entry["gguf"] = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ExportError(f"{imported}: not valid JSON: {e}") from None
    return entry


def export(hf_dir: str, out: str, dtype_name: str, device: str, force: bool) -> dict:
    arch = read_config(hf_dir)
    dtype = DTYPES[dtype_name]
    if os.path.exists(out) and not force:
        raise ExportError(f"{out}: already exists (use --force to replace it)")
    log(f"{arch.hf_architecture}: {arch.n_layers} layers, d={arch.d_model}, "
        f"heads={arch.n_heads}/{arch.n_kv_heads}, vocab={arch.vocab_size}")
    weights = architecture_of(arch).map_weights(load_state_dict(hf_dir), arch, hf_dir)
    eager = build_module(arch, weights, dtype, hf_dir)
    del weights
    # float16 matmuls do not run on CPU with torch 1.x: check parity on float32 copies of the
    # float16-rounded weights there, and say so.
    check_dtype = dtype
    if device == "cpu" and dtype == torch.float16:
        check_dtype = torch.float32
        log("float16 cannot run on CPU: parity is checked in float32 on the float16-rounded weights")
    fp = fingerprint(eager)
    scripted = torch.jit.script(eager)
    parent = os.path.dirname(os.path.abspath(out)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".sadi-export-", dir=parent)
    try:
        model_path = os.path.join(tmp, "model.ts")
        torch.jit.save(scripted, model_path, _extra_files={"sadi_fingerprint": fp})
        reloaded = torch.jit.load(model_path, map_location=device)
        e, s, reloaded = (cast_parameters(m.to(device), check_dtype) for m in (eager, scripted, reloaded))
        par = check_parity(e, s, reloaded, arch, hf_dir,
                           "float32" if check_dtype == torch.float32 else dtype_name, device, dtype_name)
        worst = {k: v for k, v in par.items() if k not in ("tolerance", "logit_scale")}
        for k, v in worst.items():
            log(f"parity {k}: max |logit diff| = {v:.3e} (tolerance {par['tolerance']:.1e})")
        bad = [k for k, v in worst.items() if not v <= par["tolerance"]]
        if bad:
            raise ExportError(f"parity check failed for {', '.join(bad)}: max |logit diff| "
                              f"{max(worst[k] for k in bad):.3e} > tolerance {par['tolerance']:.1e}")
        tok = tokenizer_entry(hf_dir, tmp, arch)
        manifest = {
            "format_version": FORMAT_VERSION,
            "producer": {"tool": "sadi scripts/export_hf.py", "version": TOOL_VERSION,
                         "torch": torch.__version__,
                         "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
            "source": source_entry(hf_dir),
            "architecture": arch.architecture,
            "hf_architecture": arch.hf_architecture,
            "dims": {k: getattr(arch, k) for k in ("n_layers", "n_heads", "n_kv_heads", "head_dim", "d_model",
                                           "d_ffn", "vocab_size", "max_positions")},
            **arch.manifest_entries(),
            "tied_embeddings": arch.tied_embeddings,
            "biases": {"qkv": arch.qkv_bias, "o": arch.o_bias, "mlp": arch.mlp_bias},
            "dtype": dtype_name,
            "special_tokens": {"bos": arch.bos_token_id, "eos": arch.eos_token_id,
                               "pad": arch.pad_token_id},
            "tokenizer": tok,
            "weights": {"fingerprint": fp, "n_parameters": sum(p.numel() for p in eager.parameters())},
            "model_file": {"name": "model.ts", "bytes": os.path.getsize(model_path),
                           "sha256": file_sha256(model_path)},
            "sites": site_table(arch.n_layers, arch.n_heads, arch.head_dim, arch.d_model,
                                arch.d_ffn),
            "parity": {"device": device, **par},
        }
        with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        if os.path.exists(out):
            shutil.rmtree(out)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {out} (fingerprint {fp[:19]}...)")
    return manifest


def default_dtype(hf_dir: str) -> str:
    source = read_config(hf_dir).source_dtype
    return source if source in DTYPES else "float32"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="export_hf.py", description=__doc__)
    ap.add_argument("--hf-dir", required=True, help="Hugging Face checkpoint directory")
    ap.add_argument("--out", required=True, help="model directory to write")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default=None,
                    help="stored weight dtype (default: the checkpoint's torch_dtype, else float32)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default=None,
                    help="where the parity check runs (default: cuda if available)")
    ap.add_argument("--force", action="store_true", help="replace an existing output directory")
    a = ap.parse_args(argv)
    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dtype = a.dtype or default_dtype(a.hf_dir)
        export(a.hf_dir, a.out, dtype, device, a.force)
    except (ConfigError, WeightsError, ExportError, OSError) as e:
        print(f"export_hf: error: {e}", file=sys.stderr)
        return 1
    return 0
