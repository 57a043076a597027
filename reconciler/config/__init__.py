"""Loading the desired state: YAML with source positions -> JSON Schema -> semantic checks."""

from reconciler.config.loader import load_config

__all__ = ["load_config"]
