"""services.yaml: the model, its templating and its loading (no Pulumi imports here)."""

from codex_stacks.config.loader import load_services_file, read_prelude
from codex_stacks.config.model import ServicesFile

__all__ = ["ServicesFile", "load_services_file", "read_prelude"]
