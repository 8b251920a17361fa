"""A GGUF file with every tensor dequantized to F32 and the metadata copied: the same weights the
importer produces, in llama.cpp's own layout, so llama.cpp and sadi can be compared on identical
numbers (tests/python/test_gguf.py, scripts/bench/llamacpp_bench.sh)."""
import os

import numpy as np

from . import GgufError
from .reader import GgufFile

ALL_F32 = 0  # llama_ftype LLAMA_FTYPE_ALL_F32


def write_f32(src: str, out: str) -> None:
    import gguf
    g = GgufFile(src)
    if os.path.exists(out):
        raise GgufError(f"{out}: already exists (not overwritten)")
    part = out + ".part"
    w = gguf.GGUFWriter(part, g.string("general.architecture"))
    try:
        for f in g.fields.values():
            if f.name == "general.architecture" or f.name.startswith("GGUF."):
                continue
            if f.name == "general.file_type":
                w.add_key_value(f.name, ALL_F32, gguf.GGUFValueType.UINT32)
                continue
            sub = f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None
            w.add_key_value(f.name, f.contents(), f.types[0], sub_type=sub)
        for name, t in g.tensors.items():
            values = g.tensor(name).numpy()  # float32, PyTorch orientation = reversed GGML dims
            w.add_tensor(name, np.ascontiguousarray(values))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        os.replace(part, out)
    except BaseException:
        w.close()
        if os.path.exists(part):
            os.remove(part)
        raise
