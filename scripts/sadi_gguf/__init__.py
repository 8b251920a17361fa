"""sadi_gguf: turns a llama.cpp GGUF model file into a Hugging Face checkpoint directory
(config.json, model.safetensors, tokenizer.json, tokenizer_config.json, sadi_import.json) that
scripts/export_hf.py then exports like any other (docs/gguf.md)."""


class GgufError(ValueError):
    """A GGUF file the importer cannot or will not turn into a checkpoint; the message names the
    file and the key or tensor."""
