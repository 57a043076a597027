"""Loading the desired state: YAML with source positions -> JSON Schema -> semantic checks.

May import reconciler.model, errors and documents (for policy sizes) only."""

from reconciler.config.loader import load_config

__all__ = ["load_config"]
