"""Architectures the exporter knows, one class per Hugging Face model class (registry.py).
Importing this package registers them all. To add one, see docs/model-directory.md."""
from . import bloom, gpt2, llama  # noqa: F401  (registration)
from .registry import REGISTRY, Architecture, ExportError, architecture_of, read_config, register
from .spec import ArchSpec, ConfigError

__all__ = ["REGISTRY", "Architecture", "ArchSpec", "ConfigError", "ExportError", "architecture_of", "read_config",
           "register"]
