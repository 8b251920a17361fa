"""Typed access to a GGUF file's metadata and its tensors, dequantized to float32 by the `gguf`
package (llama.cpp's own Python reader). Every failure names the file and the key or tensor."""
import os
from typing import Any, Dict, List

import numpy as np
import torch

from . import GgufError
from .layout import check_layout

MAGIC = b"GGUF"
# Tensor types the importer dequantizes (gguf.quants implements each; llama.cpp's own formats).
SUPPORTED_TYPES = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                   "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")


class GgufFile:
    """The metadata (key -> value) and tensors (name -> ReaderTensor) of one GGUF file."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:  # OSError (missing, a directory, unreadable) names the path itself
            head = f.read(4)
        if head != MAGIC:
            raise GgufError(f"{path}: not a GGUF file (expected the magic bytes {MAGIC!r}, found {head!r})")
        self.layout = check_layout(path)  # every length, count, type and data range, named
        try:
            from gguf import GGUFReader
            self._reader = GGUFReader(path)
        except (ValueError, IndexError, KeyError, OverflowError, UnicodeDecodeError, TypeError) as e:
            raise GgufError(f"{path}: malformed GGUF header or metadata ({type(e).__name__}: {e})") from None
        self.fields: Dict[str, Any] = self._reader.fields
        self.tensors = {t.name: t for t in self._reader.tensors}
        self.size = os.path.getsize(path)

    # -- metadata ------------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.fields

    def _value(self, key: str):
        try:
            return self.fields[key].contents()
        except (ValueError, IndexError, UnicodeDecodeError) as e:
            raise GgufError(f"{self.path}: metadata '{key}': unreadable value ({e})") from None

    def _require(self, key: str):
        if key not in self.fields:
            raise GgufError(f"{self.path}: metadata '{key}' missing")
        return self._value(key)

    def _scalar(self, key: str, default, ok, what: str):
        """The value of `key` (or `default` when given and the key is absent), checked by `ok`."""
        if default is not None and key not in self.fields:
            return default
        v = self._require(key)
        if not ok(v):
            raise GgufError(f"{self.path}: metadata '{key}': expected {what}, found {type(v).__name__} {v!r}")
        return v

    def string(self, key: str, default=None) -> str:
        return self._scalar(key, default, lambda v: isinstance(v, str), "a string")

    def integer(self, key: str, default=None) -> int:
        return int(self._scalar(key, default, lambda v: not isinstance(v, bool) and isinstance(v, (int, np.integer)),
                                "an integer"))

    def number(self, key: str, default=None) -> float:
        return float(self._scalar(key, default, lambda v: not isinstance(v, bool) and
                                  isinstance(v, (int, float, np.integer, np.floating)), "a number"))

    def boolean(self, key: str, default=None) -> bool:
        return bool(self._scalar(key, default, lambda v: isinstance(v, (bool, np.bool_)), "a boolean"))

    def strings(self, key: str) -> List[str]:
        v = self._require(key)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise GgufError(f"{self.path}: metadata '{key}': expected an array of strings")
        return v

    def integers(self, key: str) -> List[int]:
        v = self._require(key)
        if not isinstance(v, list) or not all(isinstance(s, (int, np.integer)) for s in v):
            raise GgufError(f"{self.path}: metadata '{key}': expected an array of integers")
        return [int(s) for s in v]

    # -- tensors -------------------------------------------------------------------------------
    def tensor_types(self) -> Dict[str, int]:
        """How many tensors of each type the file holds (for the provenance)."""
        out: Dict[str, int] = {}
        for t in self.tensors.values():
            out[t.tensor_type.name] = out.get(t.tensor_type.name, 0) + 1
        return dict(sorted(out.items()))

    def tensor(self, name: str) -> torch.Tensor:
        """The tensor dequantized to float32, in PyTorch's orientation ([out, in] for a weight)."""
        if name not in self.tensors:
            raise GgufError(f"{self.path}: tensor '{name}' missing")
        t = self.tensors[name]
        kind = t.tensor_type.name
        if kind not in SUPPORTED_TYPES:
            raise GgufError(f"{self.path}: tensor '{name}': type {kind} is not supported "
                            f"(supported: {', '.join(SUPPORTED_TYPES)})")
        from gguf.quants import dequantize
        shape = tuple(int(d) for d in reversed(t.shape))  # GGML lists the innermost dimension first
        try:
            values = dequantize(t.data, t.tensor_type)
        except (ValueError, NotImplementedError) as e:
            raise GgufError(f"{self.path}: tensor '{name}' ({kind}): cannot dequantize: {e}") from None
        if values.size != int(np.prod(shape)):
            raise GgufError(f"{self.path}: tensor '{name}': {values.size} values for shape {list(shape)}")
        return torch.from_numpy(np.array(values, dtype=np.float32).reshape(shape))  # a writable copy
