"""A bounds-checked walk over a GGUF file's header, metadata and tensor infos (GGUF versions 2 and
3, from the specification in llama.cpp's docs/gguf.md), run before the `gguf` package reads the
file. That reader trusts every length and count it finds: a damaged count makes it loop for hours
or fail with a numpy message that names nothing. Here every string length, array count, value
type, tensor dimension, tensor type and data range is checked against the file's size, and a
failure names the file and the metadata key or tensor it concerns."""
import mmap
import struct
from typing import Dict, Tuple

from . import GgufError

# GGUF value types: id -> (name, size in bytes; 0: a string or an array)
VALUE_TYPES = {0: ("uint8", 1), 1: ("int8", 1), 2: ("uint16", 2), 3: ("int16", 2), 4: ("uint32", 4),
               5: ("int32", 4), 6: ("float32", 4), 7: ("bool", 1), 8: ("string", 0), 9: ("array", 0),
               10: ("uint64", 8), 11: ("int64", 8), 12: ("float64", 8)}
STRING, ARRAY = 8, 9
MAX_DIMS = 4  # GGML_MAX_DIMS
DEFAULT_ALIGNMENT = 32


class Walker:
    def __init__(self, path: str, buf, size: int):
        self.path, self.buf, self.size, self.pos = path, buf, size, 0

    def fail(self, where: str, what: str):
        raise GgufError(f"{self.path}: {where}: {what}")

    def take(self, n: int, where: str) -> bytes:
        if n > self.size - self.pos:
            self.fail(where, f"needs {n} bytes at offset {self.pos}, but the file ends at {self.size}: "
                             "truncated or damaged file?")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt: str, where: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), where))[0]

    def string(self, where: str) -> str:
        n = self.unpack("Q", where)
        raw = self.take(n, where)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.fail(where, f"a string of {n} bytes that is not UTF-8")

    def value(self, vtype: int, where: str, depth: int = 0):
        """Skips (or, for scalars and strings, returns) one value of type `vtype`."""
        if vtype not in VALUE_TYPES:
            self.fail(where, f"unknown value type {vtype} (GGUF types are 0..12)")
        if vtype == STRING:
            return self.string(where)
        if vtype == ARRAY:
            etype = self.unpack("I", where)
            count = self.unpack("Q", where)
            if etype not in VALUE_TYPES:
                self.fail(where, f"an array of unknown value type {etype} (GGUF types are 0..12)")
            if depth > 8:
                self.fail(where, "arrays nested more than 8 deep")
            least = VALUE_TYPES[etype][1] or (8 if etype == STRING else 12)  # the smallest element's bytes
            if count * least > self.size - self.pos:
                self.fail(where, f"an array of {count} {VALUE_TYPES[etype][0]} values cannot fit in the "
                                 f"{self.size - self.pos} bytes left: damaged count?")
            if VALUE_TYPES[etype][1]:
                self.take(count * VALUE_TYPES[etype][1], where)
            else:
                for i in range(count):
                    self.value(etype, f"{where}[{i}]", depth + 1)
            return None
        fmt = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}[vtype]
        return self.unpack(fmt, where)


def tensor_bytes(path: str, name: str, dims, type_id: int) -> int:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
    try:
        qtype = GGMLQuantizationType(type_id)
    except ValueError:
        raise GgufError(f"{path}: tensor '{name}': unknown tensor type {type_id} (not a GGML type this "
                        "importer's gguf package knows)") from None
    block, size = GGML_QUANT_SIZES[qtype]
    if dims[0] % block:
        raise GgufError(f"{path}: tensor '{name}': {dims[0]} values per row do not fill whole {qtype.name} "
                        f"blocks of {block}")
    n = 1
    for d in dims:
        n *= d
    return n // block * size


def check_layout(path: str) -> Dict[str, Tuple[int, int]]:
    """Walks the file; returns tensor name -> (type id, bytes). Raises GgufError naming the file
    and the key or tensor at the first inconsistency."""
    with open(path, "rb") as f:  # OSError (missing, a directory, unreadable) names the path itself
        size = f.seek(0, 2)
        if size < 24:
            raise GgufError(f"{path}: {size} bytes is too short for a GGUF header (24 bytes)")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _walk(Walker(path, buf, size))


def _walk(w: Walker) -> Dict[str, Tuple[int, int]]:
    if w.take(4, "header") != b"GGUF":
        w.fail("header", "not a GGUF file (expected the magic bytes b'GGUF')")
    version = w.unpack("I", "header")
    if version not in (2, 3):
        w.fail("header", f"GGUF version {version}; this importer reads versions 2 and 3")
    n_tensors, n_kv = w.unpack("Q", "header"), w.unpack("Q", "header")
    if n_kv * 13 > w.size or n_tensors * 32 > w.size:
        w.fail("header", f"{n_kv} metadata entries and {n_tensors} tensors cannot fit in {w.size} bytes: damaged counts?")
    alignment = DEFAULT_ALIGNMENT
    keys = set()
    for i in range(n_kv):
        key = w.string(f"metadata entry {i} (its key)")
        if key in keys:
            w.fail(f"metadata '{key}'", "appears twice")
        keys.add(key)
        vtype = w.unpack("I", f"metadata '{key}'")
        value = w.value(vtype, f"metadata '{key}'")
        if key == "general.alignment":
            if vtype != 4 or not value or value & (value - 1):
                w.fail("metadata 'general.alignment'", f"expected a uint32 power of two, found {value!r}")
            alignment = value
    infos = []
    for i in range(n_tensors):
        name = w.string(f"tensor info {i} (its name)")
        where = f"tensor '{name}'"
        n_dims = w.unpack("I", where)
        if not 1 <= n_dims <= MAX_DIMS:
            w.fail(where, f"{n_dims} dimensions (expected 1 to {MAX_DIMS})")
        dims = [w.unpack("Q", where) for _ in range(n_dims)]
        if any(d == 0 or d > w.size * 8 for d in dims):
            w.fail(where, f"dimensions {dims} (expected positive sizes that fit in the file)")
        type_id, offset = w.unpack("I", where), w.unpack("Q", where)
        infos.append((name, dims, type_id, offset))
    data_start = -(-w.pos // alignment) * alignment
    out: Dict[str, Tuple[int, int]] = {}
    for name, dims, type_id, offset in infos:
        if name in out:
            w.fail(f"tensor '{name}'", "appears twice")
        nbytes = tensor_bytes(w.path, name, dims, type_id)
        if offset % alignment:
            w.fail(f"tensor '{name}'", f"data offset {offset} is not a multiple of the alignment {alignment}")
        end = data_start + offset + nbytes
        if end > w.size:
            w.fail(f"tensor '{name}'", f"ends at byte {end}, past the end of the file ({w.size} bytes): truncated file?")
        out[name] = (type_id, nbytes)
    return out
