"""services.yaml: the model, its parsing, templating and lazy evaluation (no Pulumi imports here)."""

from codex_stacks.config.loader import ServicesDocument, load_document, parse_services
from codex_stacks.config.model import ServicesFile
from codex_stacks.config.settings import Settings

__all__ = ["ServicesDocument", "ServicesFile", "Settings", "load_document", "parse_services"]
