"""Reads (and, for the tiny models, writes) checkpoint weights without `transformers`.

Formats: model.safetensors, sharded safetensors with model.safetensors.index.json,
pytorch_model.bin and its sharded index. safetensors is parsed by hand (an 8-byte
little-endian header length, a JSON header, then raw little-endian data).
"""
import json
import os
import struct
from typing import Dict, Iterator, Tuple

import torch

ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}


class WeightsError(ValueError):
    """A checkpoint whose weights cannot be read."""


def _read_safetensors(path: str) -> Iterator[Tuple[str, torch.Tensor]]:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise WeightsError(f"{path}: truncated safetensors file ({size} bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            raise WeightsError(f"{path}: header length {n} exceeds the file size {size}")
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise WeightsError(f"{path}: malformed safetensors header: {e}") from None
        base = 8 + n
        for name in sorted(k for k in header if k != "__metadata__"):
            info = header[name]
            dtype = ST_DTYPES.get(info.get("dtype"))
            if dtype is None:
                raise WeightsError(f"{path}: tensor '{name}': unsupported dtype {info.get('dtype')}")
            begin, end = info["data_offsets"]
            if base + end > size or begin > end:
                raise WeightsError(f"{path}: tensor '{name}': data offsets {begin}..{end} beyond the file")
            f.seek(base + begin)
            buf = bytearray(f.read(end - begin))
            t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
            yield name, t.reshape(info["shape"])


def _read_bin(path: str) -> Iterator[Tuple[str, torch.Tensor]]:
    try:
        sd = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - torch raises many kinds
        raise WeightsError(f"{path}: cannot read PyTorch checkpoint: {e}") from None
    for name in sorted(sd):
        yield name, sd[name]


def checkpoint_files(hf_dir: str):
    """Returns (kind, [files]) for the weight files of a checkpoint directory."""
    for index, kind in (("model.safetensors.index.json", "safetensors"),
                        ("pytorch_model.bin.index.json", "bin")):
        p = os.path.join(hf_dir, index)
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                weight_map = json.load(f).get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise WeightsError(f"{p}: key 'weight_map': expected a non-empty object")
            files = sorted(set(weight_map.values()))
            missing = [x for x in files if not os.path.isfile(os.path.join(hf_dir, x))]
            if missing:
                raise WeightsError(f"{p}: shard file(s) not found: {', '.join(missing)}")
            return kind, [os.path.join(hf_dir, x) for x in files]
    for name, kind in (("model.safetensors", "safetensors"), ("pytorch_model.bin", "bin")):
        p = os.path.join(hf_dir, name)
        if os.path.isfile(p):
            return kind, [p]
    raise WeightsError(f"{hf_dir}: no weights found (expected model.safetensors, "
                       "model.safetensors.index.json, pytorch_model.bin or its index)")


def load_state_dict(hf_dir: str) -> Dict[str, torch.Tensor]:
    kind, files = checkpoint_files(hf_dir)
    reader = _read_safetensors if kind == "safetensors" else _read_bin
    out: Dict[str, torch.Tensor] = {}
    for path in files:
        for name, t in reader(path):
            if name in out:
                raise WeightsError(f"{path}: tensor '{name}' appears in more than one shard")
            out[name] = t
    return out


def save_safetensors(tensors: Dict[str, torch.Tensor], path: str, metadata: Dict[str, str] = None) -> None:
    """Writes a safetensors file (sorted names, 8-byte aligned header)."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
