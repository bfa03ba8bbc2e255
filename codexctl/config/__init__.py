"""services.yaml: the model, its templating and its loading (no Pulumi imports here)."""

from codexctl.config.loader import load_services_file, read_prelude
from codexctl.config.model import ServicesFile

__all__ = ["ServicesFile", "load_services_file", "read_prelude"]
