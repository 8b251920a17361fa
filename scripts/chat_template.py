#!/usr/bin/env python3
"""Render prompts with a model's own chat template (tokenizer_config.json's `chat_template`, as
transformers' apply_chat_template renders it: Jinja2, add_generation_prompt), so task, pair and
prompt files hold the exact strings the model sees.

    .venv/bin/python scripts/chat_template.py --model MODEL_OR_HF_DIR --text "What is 2+2?" [--system S]

prints the rendered prompt (ending with the assistant header and its newline) on stdout; with
--json, one JSON Lines record {"prompt": ...} for `sadi generate --input` (a shell's "$(...)"
would drop the template's final newline). As a library:
`ChatTemplate(dir).render(user_text, system)`. The answer follows the assistant header directly,
so files made with it are used with `--separator ""` (scripts/convert_reviews.py records this).
"""
import argparse
import json
import os
import sys


class TemplateError(Exception):
    pass


class ChatTemplate:
    def __init__(self, model_dir: str):
        path = os.path.join(model_dir, "tokenizer_config.json")
        try:
            with open(path, encoding="utf-8") as f:
                cfg = json.load(f)
        except OSError as e:
            raise TemplateError(f"{path}: cannot read: {e.strerror}") from None
        except json.JSONDecodeError as e:
            raise TemplateError(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None
        template = cfg.get("chat_template") if isinstance(cfg, dict) else None
        if not isinstance(template, str) or not template:
            raise TemplateError(f"{path}: key 'chat_template': expected a Jinja2 template string, "
                                f"found {json.dumps(template)[:60]}")
        import jinja2
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                            undefined=jinja2.StrictUndefined)

        def raise_exception(msg):
            raise TemplateError(f"{path}: key 'chat_template': the template refused the conversation: {msg}")
        env.globals["raise_exception"] = raise_exception
        try:
            self._template = env.from_string(template)
        except jinja2.TemplateError as e:
            raise TemplateError(f"{path}: key 'chat_template': not a valid template: {e}") from None
        self.path = path
        self.special = {k: cfg.get(k) if isinstance(cfg.get(k), str) else "" for k in ("bos_token", "eos_token")}

    def render(self, user_text: str, system: str = None) -> str:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user_text}]
        import jinja2
        try:
            return self._template.render(messages=messages, add_generation_prompt=True, **self.special)
        except jinja2.TemplateError as e:
            raise TemplateError(f"{self.path}: key 'chat_template': rendering failed: {e}") from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="chat_template.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="a model or Hugging Face directory with tokenizer_config.json")
    ap.add_argument("--text", required=True, help="the user's message")
    ap.add_argument("--system", default=None, help="an optional system prompt (default: the template's own)")
    ap.add_argument("--json", action="store_true", help="print {\"prompt\": ...} as one JSON line")
    a = ap.parse_args(argv)
    try:
        prompt = ChatTemplate(a.model).render(a.text, a.system)
        sys.stdout.write(json.dumps({"prompt": prompt}, ensure_ascii=False) + "\n" if a.json else prompt)
    except TemplateError as e:
        print(f"chat_template: error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
