"""Synthetic projects of a chosen size: a namespace group plus services of five objects each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OBJECTS_PER_SERVICE = 5
"""ConfigMap, ServiceAccount, Service, Deployment and a second ConfigMap per service."""
STACK = "ai-slot-3"

_HEADER = """\
project: bench
vars:
  tag_env: '{{ "staging" if env == "ai" else env }}'
maxSlots: 10
registry: registry.bench.local
namespace:
  patterns:
    ai: "{{ project }}-ai-{{ slot }}"
baseDomain:
  ai: "dev-{{ slot }}.bench.local"
environments:
  ai:
    imagePullPolicy: IfNotPresent
versions:
  busybox: "1.37.0"
infrastructure:
  - name: namespace
    manifests:
      - path: deploy/namespace.yaml
services:
"""

_SERVICE = """\
  - name: {name}
    manifests:
      - path: services/{name}/deploy.yaml
    image:
      repository: "{{{{ registry }}}}/bench/{name}"
      tagTemplate: "{{{{ tag_env }}}}-1.0.{index}"
    overlays:
      ai:
        hostMounts:
          - name: src
            hostPath: "{{{{ project_root }}}}/slots/{{{{ slot }}}}/src/{name}"
            mountPath: /app
"""

_NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {{ namespace }}
"""

# A service's manifest, in the style of the example project: Jinja variables, a conditional block.
_MANIFEST = """\
{{%- set busybox = registry ~ "/library/busybox:" ~ versions["busybox"] -%}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  SERVICE_NAME: "{name}"
  HTTP_PORT: "8080"
  HOST: "{{{{ base_domain }}}}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-env
data:
  STAGE: "{{{{ env }}}}"
  NAMESPACE: "{{{{ namespace }}}}"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  selector:
    app: {name}
  ports:
    - name: http
      port: 8080
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      serviceAccountName: {name}
      {{%- if env == "ai" %}}
      securityContext:
        fsGroup: 1000
      {{%- endif %}}
      initContainers:
        - name: wait
          image: {{{{ busybox }}}}
          command: ["sh", "-c", "sleep 1"]
      containers:
        - name: {name}
          image: {{{{ registry }}}}/bench/{name}:latest
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: {name}-config
            - configMapRef:
                name: {name}-env
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8080
            periodSeconds: 10
"""


@dataclass(frozen=True)
class SyntheticProject:
    """A generated project folder and what a normal run of ``STACK`` renders from it."""

    root: Path
    services: int

    @property
    def objects(self) -> int:
        """Kubernetes objects of the plan: the namespace and five per service."""
        return 1 + OBJECTS_PER_SERVICE * self.services


def write_project(root: Path, *, services: int) -> SyntheticProject:
    """Write ``services.yaml`` and one manifest file per service into ``root``."""
    (root / "deploy").mkdir(parents=True, exist_ok=True)
    (root / "deploy" / "namespace.yaml").write_text(_NAMESPACE, encoding="utf-8")
    parts = [_HEADER]
    for index in range(services):
        name = f"svc-{index:04d}"
        parts.append(_SERVICE.format(name=name, index=index))
        folder = root / "services" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "deploy.yaml").write_text(_MANIFEST.format(name=name), encoding="utf-8")
    (root / "services.yaml").write_text("".join(parts), encoding="utf-8")
    return SyntheticProject(root=root, services=services)


def services_for(objects: int) -> int:
    """How many services make a project of about ``objects`` Kubernetes objects (50 → 51)."""
    return max(1, round((objects - 1) / OBJECTS_PER_SERVICE))
