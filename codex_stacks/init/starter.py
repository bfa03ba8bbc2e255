"""The starter ``services.yaml`` of ``codexctl init``: one service per Dockerfile found, plus the agent.

The repository is looked at, never run: its folders are walked without following symbolic links,
to a bounded depth and number of entries, and only file names are read. A Dockerfile named for
the agent (``codex``) builds the agent's image instead of becoming a service.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MAX_DEPTH = 4
MAX_ENTRIES = 20_000
MAX_SERVICES = 40
AGENT = "codex"
SKIPPED_FOLDERS = frozenset(
    {".git", ".github", ".venv", "venv", "node_modules", "vendor", "__pycache__", ".tox", "dist", "build", "preview"}
)
_DOCKERFILE = re.compile(
    r"^(?:Dockerfile|Containerfile)(?:\.(?P<suffix>[\w.-]+))?$|^(?P<prefix>[\w.-]+)\.[dD]ockerfile$"
)
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")
_PLAIN_PATH = re.compile(r"^[\w./-]+$")
"""Paths written into services.yaml as they are: nothing a template or YAML would read otherwise."""


def dns_label(text: str) -> str:
    """``text`` as a DNS-1035 label (a Service's name): lowercase letters, digits and ``-``,
    starting with a letter, at most 63 characters; empty when nothing of it is usable."""
    label = _NOT_LABEL.sub("-", text.lower()).strip("-")
    label = re.sub(r"-{2,}", "-", label)
    if label and not label[0].isalpha():
        label = f"svc-{label}"
    return label[:63].rstrip("-")


@dataclass(frozen=True)
class FoundImage:
    """A Dockerfile of the repository and the service it builds."""

    service: str
    dockerfile: str
    """Relative to the repository, with ``/``."""
    context: str


def find_dockerfiles(root: Path, *, project: str) -> list[FoundImage]:
    """Dockerfiles under ``root`` (bounded), each with a unique service name (taken in path order), by name."""
    found: list[tuple[str, str, str]] = []
    seen = 0
    for current, folders, files in os.walk(root, followlinks=False):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS and not (here / f).is_symlink())
        if depth >= MAX_DEPTH:
            folders[:] = []
        seen += len(files) + len(folders)
        if seen > MAX_ENTRIES:
            break
        for name in sorted(files):
            match = _DOCKERFILE.match(name)
            if match is None or (here / name).is_symlink():
                continue
            relative = (here / name).relative_to(root).as_posix()
            context = here.relative_to(root).as_posix()
            if not _PLAIN_PATH.match(relative):
                continue
            # Dockerfile.api or api.dockerfile at the top names its service; in a folder, the folder does
            # (services/web/Dockerfile.prod is web's)
            named = match.group("suffix") or match.group("prefix")
            base = here.name if depth else (named or project)
            found.append((relative, context, base))
    images: list[FoundImage] = []
    taken: set[str] = set()
    for relative, context, base in sorted(found):
        service = dns_label(base) or "service"
        candidate, number = service, 2
        while candidate in taken:
            candidate = f"{service[:60]}-{number}"
            number += 1
        taken.add(candidate)
        images.append(FoundImage(service=candidate, dockerfile=relative, context=context or "."))
        if len(images) >= MAX_SERVICES:
            break
    return sorted(images, key=lambda image: image.service)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def services_yaml(*, project: str, images: list[FoundImage], agent_build_args: dict[str, str] | None = None) -> str:
    """The starter services.yaml for ``project`` with these images (text, with comments);
    ``agent_build_args``: the build arguments of the agent's image (codex stacks' own Dockerfile)."""
    services = [image for image in images if image.service != AGENT]
    agent_image = next((image for image in images if image.service == AGENT), None)
    lines = [
        "# yaml-language-server: $schema=services.schema.json",
        "# Written by `codexctl init` as a starting point: check every value. The reference of each key is",
        "# codex stacks' docs/services-yaml.md (and the schema next to this file: `codexctl schema`).",
        f"project: {project}",
        "",
        "# The runner's variables the templates may read with env_or(); nothing else is readable.",
        "envVars:",
        '  REGISTRY_HOST: {description: "Registry the images are pushed to and pulled from."}',
        '  BASE_DOMAIN: {description: "Domain the environments and slots are served under."}',
        "",
        "vars:",
        '  domain: \'{{ env_or("BASE_DOMAIN", "example.test") }}\'',
        "",
        'registry: \'{{ env_or("REGISTRY_HOST", "localhost:32000") }}\'',
        "",
        "# One namespace per environment, and one per AI slot (the stack ai-slot-<N>).",
        "namespace:",
        "  patterns:",
        '    dev: "{{ project }}-dev"',
        '    ai-staging: "{{ project }}-staging"',
        '    ai: "{{ project }}-dev-{{ slot }}"',
        "",
        "maxSlots: 4",
        "",
        "baseDomain:",
        '  dev: "dev.{{ domain }}"',
        '  ai-staging: "staging.{{ domain }}"',
        '  ai: "dev-{{ slot }}.{{ domain }}"',
        "",
        "versions:",
        *(f"  {image.service}: {_quote('0.1.0')}" for image in services),
        f"  {AGENT}: {_quote('0.1.0')}",
        "",
    ]
    built = [*services, *([agent_image] if agent_image else [])]
    if built:
        lines.append("# The images `codexctl ci images` builds from this repository's Dockerfiles.")
        lines.append("images:")
        for image in built:
            lines += [
                f"  {image.service}:",
                "    type: build",
                f'    repository: "{{{{ registry }}}}/{project}/{image.service}"',
                f"    tagTemplate: \"{{{{ versions['{image.service}'] }}}}\"",
                f"    dockerfile: {_quote(image.dockerfile)}",
                f"    context: {_quote(image.context)}",
            ]
            if image.service == AGENT and agent_build_args:
                lines.append("    buildArgs:")
                lines += [f"      {key}: {_quote(value)}" for key, value in agent_build_args.items()]
        lines.append("")
    lines += [
        "environments:",
        "  dev: {}",
        "  ai-staging: {}",
        "  ai:",
        "    from: ai-staging",
        "  # The agent containment policy and codex-system: `pulumi up -s cluster`, by an admin, first.",
        "  cluster:",
        "    scope: cluster",
        "",
        "infrastructure:",
        "  - name: namespace",
        "    when: \"{{ env != 'cluster' }}\"",
        "    manifests:",
        "      - path: deploy/namespace.yaml",
        "",
        "services:",
    ]
    for image in services:
        lines += [
            f"  - name: {image.service}",
            "    when: \"{{ env != 'cluster' }}\"",
            "    manifests:",
            f"      - path: deploy/{image.service}.yaml",
            "    image:",
            f'      repository: "{{{{ registry }}}}/{project}/{image.service}"',
            f"      tagTemplate: \"{{{{ versions['{image.service}'] }}}}\"",
            "",
        ]
    lines += [
        "  # The agent, in AI slots only. Its image holds the codex CLI and your project's tools"
        + ("." if agent_image else ": build it (images:) or name one."),
        f"  - name: {AGENT}",
        "    when: \"{{ env == 'ai' }}\"",
        "    manifests:",
        f"      - path: deploy/{AGENT}.yaml",
        "    image:",
        f'      repository: "{{{{ registry }}}}/{project}/{AGENT}"',
        f"      tagTemplate: \"{{{{ versions['{AGENT}'] }}}}\"",
        "    hooks:",
        "      beforeApply:",
        "        # openai-secret, github-secret, context7-secret from secret stack config or the runner's env.",
        "        - name: ensure-codex-secrets",
        "          use: codex.ensure-codex-secrets",
        "",
    ]
    return "\n".join(lines)
