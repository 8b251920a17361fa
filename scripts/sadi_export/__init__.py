"""sadi_export: turns Hugging Face Llama-family checkpoints into sadi model directories.

The package owns the model-directory contract (docs/model-directory.md): the site table,
the manifest schema and FORMAT_VERSION, which lib/model/src/manifest.cpp checks.
"""

# Bump FORMAT_VERSION on any change to manifest.json's schema or to the forward contract;
# lib/model/include/sadi/model/manifest.hpp has the same number (kFormatVersion).
FORMAT_VERSION = 2
TOOL_VERSION = "0.1.0"
