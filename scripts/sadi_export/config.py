"""Reads a Hugging Face config.json into an ArchSpec (the registry in archs/ does the work)."""
from .archs import ArchSpec, ConfigError, read_config  # noqa: F401
