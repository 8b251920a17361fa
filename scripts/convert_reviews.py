#!/usr/bin/env python3
"""Turn VADER's human-rated review snippets (Hutto & Gilbert, ICWSM 2014; vaderSentiment 3.3.2's
additional_resources, fetched by scripts/fetch_assets.sh) into sadi pairs, dev and test files.

    .venv/bin/python scripts/convert_reviews.py --source movie --out-dir OUT [--pairs 200 --dev 100
        --test 200] [--threshold 0.8] [--seed 0] [--chat-template MODEL_DIR [--system TEXT]]

Each snippet carries the mean of 20 raters on -4..+4. Binary polarity by the sign of that mean,
with near-neutral snippets dropped as SST-2 drops them: SST's [0, 1] scale maps to -4..+4 as 8x-4,
and SST-2 keeps x <= 0.4 (negative) and x > 0.6 (positive), i.e. mean <= -0.8 or mean > 0.8 here
(--threshold). Snippets whose text repeats are kept once (dropped if their ratings disagree).
Then, seeded: the classes are balanced and three disjoint sets drawn: pairs (for identify), dev
(for choosing every method's settings) and test. Prompts use the SST-2 template of the reference
code (configs/tasks/sst2.json; separator " ") or, with --chat-template, the model's own chat
template around it (separator ""). OUT/manifest.json records the source file's sha256, the
settings, the counts, the separator to pass to sadi, and each output's sha256.
"""
import argparse
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_task  # noqa: E402
from chat_template import ChatTemplate, TemplateError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VADER = os.path.join(ROOT, "third_party", "vader", "additional_resources", "hutto_ICWSM_2014")
SOURCES = {"movie": "movieReviewSnippets_GroundTruth.txt", "amazon": "amazonReviewSnippets_GroundTruth.txt"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_snippets(path):
    """[(id, mean rating, text)], one per distinct text. Lines: id TAB mean TAB text."""
    seen, order = {}, []
    with open(path, encoding="utf-8", newline="") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise convert_task.InputError(f"{path}:{n}: expected 3 tab-separated fields (id, mean rating, "
                                              f"text), found {len(parts)}")
            try:
                mean = float(parts[1])
            except ValueError:
                raise convert_task.InputError(f"{path}:{n}: field 2 (mean rating): expected a number, "
                                              f"found {parts[1]!r}") from None
            if not -4.0 <= mean <= 4.0:
                raise convert_task.InputError(f"{path}:{n}: field 2 (mean rating): expected -4..4, found {mean}")
            text = " ".join(parts[2].split())
            if not text:
                raise convert_task.InputError(f"{path}:{n}: field 3 (text): empty")
            if text in seen:
                seen[text].append(mean)
            else:
                seen[text] = [mean]
                order.append((parts[0], text))
    return [(i, seen[t], t) for i, t in order]


def polarity(means, threshold):
    labels = {"Positive" if m > threshold else "Negative" if m <= -threshold else None for m in means}
    return labels.pop() if len(labels) == 1 else None


def split(snippets, threshold, sizes, seed, origin):
    by = {"Positive": [], "Negative": []}
    for ident, means, text in snippets:
        label = polarity(means, threshold)
        if label:
            by[label].append((ident, text, label))
    rng = random.Random(seed)
    for v in by.values():
        rng.shuffle(v)
    need = sum(sizes.values())
    if need % 2 or any(s % 2 for s in sizes.values()):
        raise convert_task.InputError(f"--pairs, --dev and --test must be even (balanced), found {sizes}")
    per_class = need // 2
    if min(len(v) for v in by.values()) < per_class:
        raise convert_task.InputError(f"{origin}: {len(by['Positive'])} positive and {len(by['Negative'])} negative "
                                      f"snippets beyond the threshold; {per_class} of each are needed")
    out, at = {}, 0
    for name, size in sizes.items():
        half = size // 2
        rows = by["Positive"][at:at + half] + by["Negative"][at:at + half]
        rng.shuffle(rows)
        out[name] = rows
        at += half
    counts = {k: len(v) for k, v in by.items()}
    return out, counts


def records(rows, source, cfg, template, system):
    labels = cfg["labels"]
    pairs, task = [], []
    for ident, text, label in rows:
        prompt = convert_task.render(cfg["template"], cfg["fields"], {"sentence": text}, f"{source}:{ident}")
        if template:
            prompt = template.render(prompt, system)
        rid = f"{source}-{ident}"
        pairs.append({"id": rid, "prompt": prompt, "positive": label,
                      "negative": next(x for x in labels if x != label)})
        task.append({"id": rid, "prompt": prompt, "answer": label, "choices": labels})
    return pairs, task


def main(argv=None):
    ap = argparse.ArgumentParser(prog="convert_reviews.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", choices=sorted(SOURCES), required=True)
    ap.add_argument("--vader-dir", default=VADER, help="hutto_ICWSM_2014/ (default: the fetched one)")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--dev", type=int, default=100)
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--threshold", type=float, default=0.8, help="drop snippets with -T < mean <= T (default 0.8)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chat-template", metavar="MODEL_DIR", help="wrap prompts in this model's chat template")
    ap.add_argument("--system", default=None, help="system prompt for --chat-template (default: the template's)")
    a = ap.parse_args(argv)
    src = os.path.join(a.vader_dir, SOURCES[a.source])
    try:
        cfg = convert_task.load_config(os.path.join(ROOT, "configs", "tasks", "sst2.json"))
        template = ChatTemplate(a.chat_template) if a.chat_template else None
        sets, counts = split(read_snippets(src), a.threshold, {"pairs": a.pairs, "dev": a.dev, "test": a.test},
                             a.seed, src)
        os.makedirs(a.out_dir, exist_ok=True)
        files = {}
        for name, rows in sets.items():
            pairs, task = records(rows, a.source, cfg, template, a.system)
            path = os.path.join(a.out_dir, f"{name}.jsonl")
            convert_task.write_jsonl(path, pairs if name == "pairs" else task)
            files[f"{name}.jsonl"] = sha256(path)
        manifest = {"source": {"file": os.path.abspath(src), "sha256": sha256(src),
                               "package": "vaderSentiment 3.3.2 (MIT), additional_resources/hutto_ICWSM_2014"},
                    "threshold": a.threshold, "seed": a.seed, "beyond_threshold": counts,
                    "sizes": {k: len(v) for k, v in sets.items()},
                    "template": "chat" if template else "raw (configs/tasks/sst2.json)",
                    "chat_template_of": os.path.abspath(a.chat_template) if template else None,
                    "system": a.system, "separator": "" if template else " ", "files": files}
        convert_task.write_text_atomic(os.path.join(a.out_dir, "manifest.json"), json.dumps(manifest, indent=2) + "\n")
    except (convert_task.InputError, TemplateError) as e:
        print(f"convert_reviews: error: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"convert_reviews: error: {e}", file=sys.stderr)
        return 4
    print(f"convert_reviews: {a.source}: {counts['Positive']} positive / {counts['Negative']} negative beyond "
          f"+-{a.threshold}; wrote {', '.join(f'{k} {len(v)}' for k, v in sets.items())} to {a.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
