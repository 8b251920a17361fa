#!/usr/bin/env python3
"""Convert a task's public raw file into a sadi pairs file and a sadi task file.

    .venv/bin/python scripts/convert_task.py --config configs/tasks/copa.json --input val.jsonl \\
        --pairs copa.pairs.jsonl --task copa.task.jsonl [--seed 0] [--limit N] \\
        [--chat-template MODEL_DIR [--system TEXT]]

The config (configs/tasks/*.json, docs/tasks.md) holds the reference code's verbatim template,
the label strings, how to read the raw file and how to pick the wrong answer of each pair.
Outputs: pairs {id, prompt, positive, negative} for `sadi identify`, and a task
{id, prompt, answer, choices} for `sadi eval`. Standard library only (--chat-template also needs
jinja2, in .venv); both files are written atomically. With --chat-template the reference
template's text becomes the user message of the model's own chat template
(scripts/chat_template.py); such files are used with `--separator ""` (docs/tasks.md). Exit codes as sadi's: 2 usage, 3 bad input (named file, line, key), 4 I/O.
"""
import argparse
import csv
import json
import os
import random
import re
import sys
import tempfile

FORMAT_VERSION = 1
FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class InputError(Exception):
    pass


def fail(origin, key, expected, found):
    raise InputError(f"{origin}: key '{key}': expected {expected}, found {found}")


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except OSError as e:
        raise OSError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: not valid JSON: {e.msg}")
    if not isinstance(cfg, dict):
        fail(path, "(top level)", "a JSON object", type(cfg).__name__)
    if cfg.get("format_version") != FORMAT_VERSION:
        fail(path, "format_version", FORMAT_VERSION, json.dumps(cfg.get("format_version")))
    for key, kind in (("name", str), ("template", str), ("labels", list), ("gold", dict), ("wrong", dict),
                      ("reader", dict), ("fields", dict)):
        if not isinstance(cfg.get(key), kind):
            fail(path, key, f"a {kind.__name__}", json.dumps(cfg.get(key)))
    labels = cfg["labels"]
    if len(labels) < 2 or not all(isinstance(x, str) and x for x in labels) or len(set(labels)) != len(labels):
        fail(path, "labels", "at least two distinct non-empty strings", json.dumps(labels))
    gmap = cfg["gold"].get("map")
    if not isinstance(cfg["gold"].get("key"), str) or not isinstance(gmap, dict):
        fail(path, "gold", "{\"key\": raw field, \"map\": {raw value: label}}", json.dumps(cfg["gold"]))
    for raw, label in gmap.items():
        if label not in labels:
            fail(path, f"gold.map.{raw}", f"one of the labels {labels}", json.dumps(label))
    rule = cfg["wrong"].get("rule")
    if rule not in ("other", "random-other", "opposite"):
        fail(path, "wrong.rule", "other, random-other or opposite", json.dumps(rule))
    if rule == "other" and len(labels) != 2:
        fail(path, "wrong.rule", "random-other or opposite for more than two labels", "other")
    if rule == "opposite":
        for a, b in cfg["wrong"].get("map", {}).items():
            if a not in labels or b not in labels or a == b:
                fail(path, f"wrong.map.{a}", "a different label", json.dumps(b))
        if cfg["wrong"].get("otherwise") not in ("random-other", None):
            fail(path, "wrong.otherwise", "random-other", json.dumps(cfg["wrong"].get("otherwise")))
    fmt = cfg["reader"].get("format")
    if fmt not in ("jsonl", "csv", "tsv"):
        fail(path, "reader.format", "jsonl, csv or tsv", json.dumps(fmt))
    if fmt != "jsonl" and not cfg["reader"].get("header", True) and not isinstance(cfg["reader"].get("columns"), list):
        fail(path, "reader.columns", "the column names of a file without a header", "nothing")
    return cfg


def as_text(value):
    """Raw values as the config's map keys spell them: JSON true -> "true", 0 -> "0"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return str(value)


def read_records(path, reader):
    """Yields (line number, dict of raw fields)."""
    fmt = reader["format"]
    keep = reader.get("filter", {})
    with open(path, encoding="utf-8", newline="") as f:
        if fmt == "jsonl":
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}:{n}: not valid JSON: {e.msg}")
                if not isinstance(rec, dict):
                    raise InputError(f"{path}:{n}: expected a JSON object, found {type(rec).__name__}")
                if all(as_text(rec.get(k)) == v for k, v in keep.items()):
                    yield n, rec
            return
        delim = "\t" if fmt == "tsv" else ","
        # TSV files of these datasets do not quote fields; CSV files do.
        rows = csv.reader(f, delimiter=delim, quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL)
        columns = reader.get("columns")
        if reader.get("header", True):
            try:
                columns = next(rows)
            except StopIteration:
                raise InputError(f"{path}: empty file (expected a header line)")
        for k in keep:
            if k not in columns:
                raise InputError(f"{path}: expected a column '{k}' (the config's reader.filter), found columns "
                                 f"{', '.join(columns)}")
        for row in rows:
            n = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise InputError(f"{path}:{n}: expected {len(columns)} columns ({', '.join(columns)}), found {len(row)}")
            rec = dict(zip(columns, row))
            if all(rec.get(k) == v for k, v in keep.items()):
                yield n, rec


def render(template, fields, rec, origin):
    def one(m):
        name = m.group(1)
        key = fields.get(name, name)
        value = rec.get(key)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value).strip() == "":
            fail(origin, key, f"a non-empty text field (template {{{name}}})", json.dumps(value))
        return str(value)
    return FIELD.sub(one, template)


def wrong_label(cfg, gold, rng):
    labels, w = cfg["labels"], cfg["wrong"]
    if w["rule"] == "other":
        return next(x for x in labels if x != gold)
    if w["rule"] == "opposite" and gold in w.get("map", {}):
        return w["map"][gold]
    return rng.choice([x for x in labels if x != gold])


def convert(cfg, input_path, seed, limit, wrap=None):
    """Returns (pairs, task) lists of dicts. The wrong answers come from a seeded generator.
    wrap: a function applied to each rendered prompt (a chat template), or None."""
    rng = random.Random(seed)
    pairs, task = [], []
    gkey, gmap = cfg["gold"]["key"], cfg["gold"]["map"]
    for n, rec in read_records(input_path, cfg["reader"]):
        origin = f"{input_path}:{n}"
        raw = as_text(rec.get(gkey))
        if raw not in gmap:
            fail(origin, gkey, f"one of {sorted(gmap)}", json.dumps(rec.get(gkey)))
        gold = gmap[raw]
        prompt = render(cfg["template"], cfg["fields"], rec, origin)
        if wrap:
            prompt = wrap(prompt)
        ident = rec.get(cfg.get("id_key", "idx"), rec.get("id"))
        ident = f"{cfg['name']}-{ident}" if ident is not None and str(ident) != "" else f"{cfg['name']}-{len(task)}"
        pairs.append({"id": ident, "prompt": prompt, "positive": gold, "negative": wrong_label(cfg, gold, rng)})
        task.append({"id": ident, "prompt": prompt, "answer": gold, "choices": cfg["labels"]})
        if limit and len(task) >= limit:
            break
    if not task:
        raise InputError(f"{input_path}: no records" + (f" matching {cfg['reader']['filter']}"
                                                        if cfg["reader"].get("filter") else ""))
    return pairs, task


def write_text_atomic(path, text):
    """Writes `text` to a temporary sibling of `path`, then renames it: never a partial file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_jsonl(path, records):
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="configs/tasks/NAME.json")
    ap.add_argument("--input", required=True, help="the task's raw file (see the config's 'raw')")
    ap.add_argument("--pairs", help="output pairs file (JSON Lines) for sadi identify")
    ap.add_argument("--task", help="output task file (JSON Lines) for sadi eval")
    ap.add_argument("--seed", type=int, default=0, help="seed of the wrong answers chosen at random")
    ap.add_argument("--limit", type=int, default=0, help="keep at most N records (0: all)")
    ap.add_argument("--chat-template", metavar="MODEL_DIR",
                    help="wrap each prompt in this model's chat template (then use --separator \"\" in sadi)")
    ap.add_argument("--system", default=None, help="system prompt for --chat-template (default: the template's)")
    args = ap.parse_args(argv)
    if not args.pairs and not args.task:
        ap.error("give --pairs and/or --task")
    try:
        cfg = load_config(args.config)
        wrap = None
        if args.chat_template:
            from chat_template import ChatTemplate, TemplateError
            try:
                template = ChatTemplate(args.chat_template)
            except TemplateError as e:
                raise InputError(str(e)) from None
            wrap = lambda text: template.render(text, args.system)  # noqa: E731
        elif args.system is not None:
            ap.error("--system needs --chat-template")
        pairs, task = convert(cfg, args.input, args.seed, args.limit, wrap)
        if args.pairs:
            write_jsonl(args.pairs, pairs)
        if args.task:
            write_jsonl(args.task, task)
    except InputError as e:
        print(f"convert_task: error: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"convert_task: error: {e}", file=sys.stderr)
        return 4
    print(f"convert_task: {cfg['name']}: {len(task)} records from {args.input}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
