"""The story tests use the CI layer's doubles: the pulumi CLI on PATH and the Kubernetes API."""

from tests.ci.conftest import kube_api, pulumi_double

__all__ = ["kube_api", "pulumi_double"]
