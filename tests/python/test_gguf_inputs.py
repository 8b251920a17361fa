"""The GGUF importer on damaged and unusual files (issue 32, class 5; docs/errors.md, "GGUF files"):
each defect ends in one line `import_gguf: error: FILE: ... 'KEY' ...`, exit 1, and nothing
written; a seeded mutation fuzz of the header and metadata accepts or refuses every file that
way, never with a traceback, a hang or a half-written folder. The files are made by the `gguf`
package's own writer (tests/python/gguf_maker.py); no download."""
import os
import random
import signal
import struct
import subprocess
import sys

import pytest

import gguf_maker as gm
from conftest import SCRIPTS

IMPORT = os.path.join(SCRIPTS, "import_gguf.py")


def run_import(gguf_path, out, timeout=120):
    return subprocess.run([sys.executable, IMPORT, "--gguf", str(gguf_path), "--out", str(out)],
                          capture_output=True, text=True, timeout=timeout)


def assert_refused(r, path, out, *needles):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1, r.stderr
    assert lines and lines[-1].startswith("import_gguf: error: ") and str(path) in lines[-1], r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[-1], (n, lines[-1])
    assert not os.path.exists(out)
    assert not any(p.startswith(".sadi-import-") for p in os.listdir(os.path.dirname(out)))


def test_the_made_file_imports(tmp_path):
    """The undamaged file imports (so each refusal below is the defect's doing)."""
    path = gm.write(str(tmp_path / "ok.gguf"))
    r = run_import(path, tmp_path / "hf")
    assert r.returncode == 0, r.stderr
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "sadi_import.json"):
        assert (tmp_path / "hf" / name).is_file()


DEFECTS = {
    # name: (writer keywords, words the error line must hold)
    "metadata-wrong-type": ({"meta": {"llama.block_count": "two"}},
                            ("'llama.block_count'", "expected an integer", "found str")),
    "metadata-missing": ({"drop_meta": {"llama.embedding_length"}}, ("'llama.embedding_length' missing",)),
    "metadata-float-for-int": ({"meta": {"llama.feed_forward_length": 64.0}}, ("'llama.feed_forward_length'",)),
    "tokens-not-strings": ({"meta": {"tokenizer.ggml.tokens": list(range(len(gm.TOKENS)))}},
                           ("'tokenizer.ggml.tokens'", "array of strings")),
    "token-types-short": ({"meta": {"tokenizer.ggml.token_type": gm.TYPES[:-1]}},
                          ("'tokenizer.ggml.token_type'", "entries for")),
    "eos-outside-vocab": ({"meta": {"tokenizer.ggml.eos_token_id": 9999}},
                          ("'tokenizer.ggml.eos_token_id'", "outside the vocabulary")),
    "merge-unknown-token": ({"meta": {"tokenizer.ggml.merges": ["Ġ t", "Ġt zz"]}},
                            ("'tokenizer.ggml.merges'[1]", "'Ġt zz'")),
    "merge-not-a-pair": ({"meta": {"tokenizer.ggml.merges": ["Ġ t h"]}}, ("'tokenizer.ggml.merges'[0]",)),
    "tokenizer-model-unknown": ({"meta": {"tokenizer.ggml.model": "bert"}}, ("'tokenizer.ggml.model'", "'bert'")),
    "chat-template-syntax": ({"meta": {"tokenizer.chat_template": "{% for m in messages %}{{ m.content }"}},
                             ("'tokenizer.chat_template'", "does not render")),
    "chat-template-raises": ({"meta": {"tokenizer.chat_template": "{{ messages | length / 0 }}"}},
                             ("'tokenizer.chat_template'", "does not render")),
    "chat-template-undefined": ({"meta": {"tokenizer.chat_template": "{{ raise_exception('no system role') }}"}},
                                ("'tokenizer.chat_template'", "does not render")),
    "heads-do-not-divide": ({"meta": {"llama.attention.head_count": 5}}, ("'llama.attention.head_count'",)),
    "tensor-type-unsupported": ({"raw_types": {"blk.0.ffn_up.weight": "IQ4_NL"}},
                                ("tensor 'blk.0.ffn_up.weight'", "type IQ4_NL is not supported")),
    "tensor-missing": ({"drop_tensors": {"blk.1.attn_v.weight"}}, ("tensor 'blk.1.attn_v.weight' missing",)),
    "tensor-shape-disagrees": ({"shapes": {"blk.1.ffn_up.weight": (gm.FFN + 32, gm.D)}},
                               ("tensor 'blk.1.ffn_up.weight'", "[96, 32]", "[64, 32]",
                                "'llama.feed_forward_length'")),
    "embedding-disagrees": ({"meta": {"llama.embedding_length": 64, "llama.attention.head_count": 8}},
                            ("tensor '", "'llama.embedding_length'")),
    "layer-beyond-block-count": ({"meta": {"llama.block_count": 1}},
                                 ("tensor 'blk.1.", "'llama.block_count' 1")),
    "tensor-unknown-name": ({"shapes": {"blk.0.attn_qkv.weight": (3 * gm.D, gm.D)}},
                            ("tensor 'blk.0.attn_qkv.weight' is not part of a llama model",)),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defect_refused_naming_file_and_key(name, tmp_path):
    kwargs, needles = DEFECTS[name]
    path = gm.write(str(tmp_path / f"{name}.gguf"), **kwargs)
    out = str(tmp_path / "hf")
    assert_refused(run_import(path, out), path, out, *needles)


def tensor_type_offset(data: bytes, name: str) -> int:
    """Byte offset of the type field of tensor `name`'s info record (after its name and dims)."""
    key = struct.pack("<Q", len(name)) + name.encode()
    at = data.index(key) + len(key)
    n_dims = struct.unpack_from("<I", data, at)[0]
    return at + 4 + 8 * n_dims


@pytest.mark.parametrize("type_id", [99, 0xFFFFFFFF])
def test_unknown_tensor_type_number_refused(type_id, tmp_path):
    data = bytearray(open(gm.write(str(tmp_path / "ok.gguf")), "rb").read())
    struct.pack_into("<I", data, tensor_type_offset(bytes(data), "blk.0.ffn_down.weight"), type_id)
    path = tmp_path / "badtype.gguf"
    path.write_bytes(bytes(data))
    out = str(tmp_path / "hf")
    assert_refused(run_import(path, out), path, out, "tensor 'blk.0.ffn_down.weight'", f"type {type_id}")


def test_cut_inside_the_tensor_data_refused(tmp_path):
    data = open(gm.write(str(tmp_path / "ok.gguf")), "rb").read()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[: len(data) - 1000])
    out = str(tmp_path / "hf")
    assert_refused(run_import(path, out), path, out, "past the end of the file", "truncated")


def test_output_exists_or_holds_the_input(tmp_path):
    path = gm.write(str(tmp_path / "ok.gguf"))
    (tmp_path / "taken").mkdir()
    r = run_import(path, tmp_path / "taken")
    assert r.returncode == 1 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = run_import(path, tmp_path)
    assert r.returncode == 1 and "already exists" in r.stderr


def header_end(data: bytes) -> int:
    """Where the tensor data begins (the header, metadata and tensor infos are before it)."""
    import gguf
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
        f.write(data)
        f.flush()
        return int(gguf.GGUFReader(f.name).data_offset)


FUZZ_CASES = int(os.environ.get("SADI_GGUF_FUZZ_CASES", "2000"))


def test_seeded_header_fuzz(tmp_path):
    """Random byte, length and count damage in the header, metadata and tensor infos: every file is
    imported or refused in one named line (exit 1), within a time bound, nothing half-written.
    A failure prints the seed and case; SADI_GGUF_FUZZ_CASES sets how many cases run."""
    sys.path.insert(0, SCRIPTS)
    from sadi_gguf import GgufError
    from sadi_gguf.importer import import_gguf
    import contextlib
    import io
    base = open(gm.write(str(tmp_path / "ok.gguf")), "rb").read()
    end = header_end(base)
    rng = random.Random(32)
    outcomes = {"imported": 0, "refused": 0}
    for case in range(FUZZ_CASES):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            at = rng.randrange(4, end - 8)
            if kind < 0.5:
                data[at] = rng.randrange(256)
            elif kind < 0.8:  # a length or count: small, large or huge
                struct.pack_into("<Q", data, at, rng.choice([0, 1, 7, 255, 1 << 20, 1 << 40, (1 << 64) - 1]))
            else:
                struct.pack_into("<I", data, at, rng.choice([0, 1, 9, 13, 99, 1 << 31, (1 << 32) - 1]))
        path = tmp_path / f"fuzz-{case}.gguf"
        path.write_bytes(bytes(data))
        out = tmp_path / f"out-{case}"
        signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("over 30 s")))
        signal.alarm(30)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                import_gguf(str(path), str(out))
            outcomes["imported"] += 1
        except GgufError as e:
            assert str(path) in str(e) and "\n" not in str(e), f"seed 32 case {case}: {e}"
            assert not out.exists(), f"seed 32 case {case}: output left behind"
            outcomes["refused"] += 1
        except Exception as e:  # anything else would reach the user as a traceback
            pytest.fail(f"seed 32 case {case}: {type(e).__name__}: {e}")
        finally:
            signal.alarm(0)
            path.unlink()
        assert not any(p.name.startswith(".sadi-import-") for p in tmp_path.iterdir()), f"case {case}"
    print(f"gguf fuzz: {outcomes}")
    assert outcomes["refused"] > 0
