"""GGUF file -> Hugging Face checkpoint directory, written into a temporary folder beside the
output and renamed into place only when complete (nothing half-written on failure)."""
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile

from . import GgufError

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sadi_export.weights import save_safetensors  # noqa: E402
from .model import config, state_dict
from .reader import GgufFile
from .tokenizer import special_ids, tokenizer_config, tokenizer_json


def log(msg: str) -> None:
    print(f"import_gguf: {msg}", file=sys.stderr, flush=True)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_chat_template(path: str, template: str) -> None:
    """Renders the template once on a two-turn conversation, so a broken one fails here, naming
    the key, rather than in a later script. Sandboxed as transformers renders it, with its
    raise_exception; any exception the template's code raises is a template that does not render."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.TemplateError(message)

    try:
        env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
        env.globals["raise_exception"] = raise_exception
        env.from_string(template).render(
            messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
            add_generation_prompt=True, bos_token="", eos_token="")
    except Exception as e:  # noqa: BLE001 (the template is code from the file: whatever it raises)
        why = " ".join(str(e).split()) or type(e).__name__
        raise GgufError(f"{path}: metadata 'tokenizer.chat_template': the template does not render: "
                        f"{type(e).__name__}: {why}") from None


def write_json(obj, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def provenance(g: GgufFile, types: dict) -> dict:
    return {"source_file": os.path.abspath(g.path), "source_sha256": file_sha256(g.path),
            "source_bytes": g.size, "general_name": g.string("general.name", "") or None,
            "file_type": g.integer("general.file_type", -1),
            "tensor_types": g.tensor_types(),
            "dequantized_from": dict(sorted({t: sum(1 for v in types.values() if v == t)
                                             for t in set(types.values())}.items())),
            "importer": "sadi scripts/import_gguf.py",
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def import_gguf(path: str, out: str, force: bool = False) -> dict:
    if os.path.exists(out) and not force:
        raise GgufError(f"{out}: already exists (use --force to replace it)")
    if os.path.abspath(out) == os.path.dirname(os.path.abspath(path)):
        raise GgufError(f"{out}: is the folder holding the input {path}; choose another output")
    g = GgufFile(path)
    special = special_ids(g)
    cfg = config(g, special)
    tok_json = tokenizer_json(g)
    tok_cfg = tokenizer_config(g, cfg["max_position_embeddings"])
    if "chat_template" in tok_cfg:
        check_chat_template(path, tok_cfg["chat_template"])
    log(f"{cfg['architectures'][0]}: {cfg['num_hidden_layers']} layers, d={cfg['hidden_size']}, heads="
        f"{cfg['num_attention_heads']}/{cfg['num_key_value_heads']}, vocab={cfg['vocab_size']}, "
        f"tensors {g.tensor_types()}")
    weights, types = state_dict(g, cfg)
    parent = os.path.dirname(os.path.abspath(out)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".sadi-import-", dir=parent)
    try:
        save_safetensors(weights, os.path.join(tmp, "model.safetensors"), {"format": "pt"})
        write_json(cfg, os.path.join(tmp, "config.json"))
        write_json(tok_json, os.path.join(tmp, "tokenizer.json"))
        write_json(tok_cfg, os.path.join(tmp, "tokenizer_config.json"))
        prov = provenance(g, types)
        write_json(prov, os.path.join(tmp, "sadi_import.json"))
        if os.path.exists(out):
            shutil.rmtree(out)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {out} (from {os.path.basename(path)}, sha256 {prov['source_sha256'][:16]}...)")
    return prov
