"""The architecture registry: one Architecture class per Hugging Face model class, registered by
that class name. read_config() finds the class for a checkpoint's config.json and lets it fill
an ArchSpec; map_weights() turns the checkpoint's tensor names into the module's."""
import json
import os
from typing import Any, Dict, Tuple, Type

import torch

from .spec import ArchSpec, ConfigError, refuse

REGISTRY: Dict[str, Type["Architecture"]] = {}


class ExportError(RuntimeError):
    """A checkpoint the exporter cannot turn into a model directory."""


class Architecture:
    """Base class. Subclasses set `name` (the manifest's architecture), `model_type` (config.json's)
    and `hf_classes`, and implement spec(); map_weights() defaults to the Llama layout."""
    name = ""
    model_type = ""
    hf_classes: Tuple[str, ...] = ()

    def spec(self, path: str, cfg: Dict[str, Any]) -> ArchSpec:
        raise NotImplementedError

    def map_weights(self, sd: Dict[str, torch.Tensor], spec: ArchSpec, hf_dir: str) -> Dict[str, torch.Tensor]:
        """Llama layout: drop the "model." prefix and the rotary buffers; check the output layer."""
        out = {}
        for name, t in sd.items():
            if name.endswith("rotary_emb.inv_freq"):
                continue  # recomputed from the config
            out[name[len("model."):] if name.startswith("model.") else name] = t
        return check_output_layer(out, spec, hf_dir)


def check_output_layer(out: Dict[str, torch.Tensor], spec: ArchSpec, hf_dir: str) -> Dict[str, torch.Tensor]:
    if spec.tied_embeddings:
        out.pop("lm_head.weight", None)
    elif "lm_head.weight" not in out:
        raise ExportError(f"{hf_dir}: tensor 'lm_head.weight' not found and tie_word_embeddings is false")
    return out


def register(cls: Type[Architecture]) -> Type[Architecture]:
    for hf_class in cls.hf_classes:
        if hf_class in REGISTRY:
            raise ValueError(f"{hf_class} registered twice ({REGISTRY[hf_class].__name__}, {cls.__name__})")
        REGISTRY[hf_class] = cls
    return cls


def lookup(path: str, cfg: Dict[str, Any]) -> Architecture:
    """The registered class for config.json's model_type and architectures."""
    by_type = {cls.model_type: cls for cls in REGISTRY.values()}
    model_type = cfg.get("model_type")
    if model_type not in by_type:
        refuse(path, "model_type", "one of " + ", ".join(sorted(by_type)), model_type)
    found = cfg.get("architectures") or []
    if not found:
        return by_type[model_type]()
    for hf_class in found:
        cls = REGISTRY.get(hf_class)
        if cls is not None and cls.model_type == model_type:
            return cls()
    refuse(path, "architectures", " or ".join(sorted(by_type[model_type].hf_classes)), found)


def read_config(hf_dir: str) -> ArchSpec:
    path = os.path.join(hf_dir, "config.json")
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: not found (expected a Hugging Face checkpoint directory)")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}: malformed JSON: {e.msg}") from None
    return lookup(path, cfg).spec(path, cfg)


def architecture_of(spec: ArchSpec) -> Architecture:
    return REGISTRY[spec.hf_architecture]() if spec.hf_architecture in REGISTRY else \
        {c.name: c for c in REGISTRY.values()}[spec.architecture]()
