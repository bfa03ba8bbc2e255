"""Every error of one stack's view of services.yaml (codex_stacks/config/settings.py) printed
whole, as ``codexctl validate`` shows it: maxSlots, images, sections and environments that are
not what the model takes, hook stages that are not lists, and what a failed template hides."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

HEAD = "project: demo\nenvironments:\n  dev: {}\n"
"""Every case's keys start on line 4."""
KNOWN = (
    "  hint: known variables: base_domain, env, env_or, mode, namespace, project, project_root, registry, slot, "
    "storage, vars, versions"
)

CASES = [
    pytest.param(HEAD + "maxSlots: 0\n", "no problem", id="max-slots-zero"),
    pytest.param(HEAD + "maxSlots: \"{{ '3' }}\"\n", "no problem", id="max-slots-template-digits"),
    pytest.param(
        HEAD + "maxSlots: many\n",
        "services.yaml:4: maxSlots: maxSlots must be a whole number of 0 or more, not 'many'",
        id="max-slots-word",
    ),
    pytest.param(
        HEAD + "maxSlots: -1\n",
        "services.yaml:4: maxSlots: maxSlots must be a whole number of 0 or more, not -1",
        id="max-slots-negative",
    ),
    pytest.param(
        HEAD + "maxSlots: true\n",
        "services.yaml:4: maxSlots: maxSlots must be a whole number of 0 or more, not True",
        id="max-slots-boolean",
    ),
    pytest.param(
        HEAD + "images:\n  api:\n    type: docker\n",
        "services.yaml:5: images.api: Input tag 'docker' found using 'type' does not match any of the expected "
        "tags: 'external', 'build'",
        id="image-type",
    ),
    pytest.param(
        HEAD + "images:\n  web:\n    type: external\n    from: nginx\n    locl: x\n",
        "services.yaml:8: images.web.locl: unknown key 'locl'\n  hint: did you mean 'local'?\n"
        "services.yaml:5: images.web.local: missing required key 'local'",
        id="image-typo",
    ),
    pytest.param(
        HEAD + "codex: [a]\n", "services.yaml:4: codex: Input should be a valid dictionary", id="section-list"
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev:\n    imagePullPolicy: Sometimes\n",
        "services.yaml:4: environments.dev.imagePullPolicy: Input should be 'Always', 'IfNotPresent' or 'Never'",
        id="environment-field",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  base:\n    kubeContext: 3\n  dev:\n    from: base\n",
        "services.yaml:4: environments.base.kubeContext: Input should be a valid string",
        id="environment-parent-field",
    ),
    pytest.param(
        HEAD + "hooks: [a]\n", "services.yaml:4: hooks: hooks must be a mapping of stages", id="stack-hooks-list"
    ),
    pytest.param(
        HEAD + "hooks:\n  afterAll: later\n",
        "services.yaml:5: hooks.afterAll: hooks.afterAll must be a list of steps",
        id="stack-stage-scalar",
    ),
    pytest.param(
        HEAD + "services:\n  - name: api\n    hooks:\n      beforeDestroy: {name: x}\n",
        "services.yaml:7: services[0].hooks.beforeDestroy: hooks.beforeDestroy must be a list of steps",
        id="service-stage-mapping",
    ),
    pytest.param(
        HEAD + "infrastructure:\n  - name: db\n    hooks: x\n",
        "services.yaml:6: infrastructure[0].hooks: hooks must be a mapping of stages",
        id="group-hooks-scalar",
    ),
    pytest.param(
        HEAD + "services:\n  - name: api\n    image: {repository: '{{ nope }}'}\n",
        f"services.yaml:6: services[0].image.repository: undefined template variable: 'nope' is undefined\n{KNOWN}",
        id="failed-template-hides-missing-keys-of-its-value",
    ),
    pytest.param(
        HEAD + "hooks:\n  beforeAll:\n    - name: '{{ nope }}'\n      run: echo\n",
        f"services.yaml:6: hooks.beforeAll[0].name: undefined template variable: 'nope' is undefined\n{KNOWN}",
        id="failed-template-hides-missing-key",
    ),
    pytest.param(
        HEAD + "dataPaths:\n  rot: /data\ncodex:\n  projectContext: '{{ storage }}'\n",
        "services.yaml:5: dataPaths.rot: unknown key 'rot'\n  hint: did you mean 'root'?\n"
        "services.yaml:4: dataPaths.root: missing required key 'root'",
        id="problems-of-a-section-a-template-uses",
    ),
    pytest.param(
        HEAD + "codex:\n  model: '{{ a }}'\n  links: [{path: /x}]\n",
        "services.yaml:5: codex.model: undefined template variable: 'a' is undefined\n"
        f"{KNOWN}\nservices.yaml:6: codex.links[0].title: missing required key 'title'",
        id="failed-template-and-other-problem",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
