"""Every error services.yaml's load-time checks (codex_stacks/config/loader.py) print, whole:
file and line, key path, message and hint, as ``codexctl validate`` shows them.

Each case is a services.yaml text and what a user reads for it; the line numbers are counted
in the text of the case. A file named by ``check_everything`` is shown relative to the project.
"""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

DEV = "environments:\n  dev: {}\n"
NAME_HINT = "  hint: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63"
ENV_NAME_HINT = "  hint: an environment is picked by a stack's name: letters, digits, '-', '_' and '.' only"
LOOP_HINT = "  hint: an environment cannot inherit from itself, directly or through others"

CASES = [
    pytest.param("", "services.yaml: the file is empty", id="empty-file"),
    pytest.param("# only a comment\n", "services.yaml: the file is empty", id="only-a-comment"),
    pytest.param(
        "- project\n- demo\n", "services.yaml:1: the top level must be a mapping of keys, not a list", id="top-list"
    ),
    pytest.param(
        "'{{ project }}'\n",
        "services.yaml:1: the top level must be a mapping of keys, not a template",
        id="top-template",
    ),
    pytest.param(
        "project: demo\nmaxSlot: 3\n",
        "services.yaml:2: maxSlot: unknown key 'maxSlot'\n  hint: did you mean 'maxSlots'?",
        id="unknown-top-key-close",
    ),
    pytest.param(
        "project: demo\nzzz: 1\n",
        "services.yaml:2: zzz: unknown key 'zzz'\n  hint: known keys: baseDomain, codex, dataPaths, envVars, "
        "environments, hooks, images, infrastructure, maxSlots, namespace, project, registry, repair, security, "
        "services, vars, versions",
        id="unknown-top-key-far",
    ),
    pytest.param("maxSlots: 1\n", "services.yaml:1: project: missing required key 'project'", id="missing-project"),
    pytest.param(
        "maxSlot: 1\n",
        "services.yaml:1: maxSlot: unknown key 'maxSlot'\n  hint: did you mean 'maxSlots'?\n"
        "services.yaml:1: project: missing required key 'project'",
        id="two-problems-one-per-line",
    ),
    pytest.param(
        "project: '{{ env }}'\n",
        "services.yaml:1: project: project must be written out, not a template\n"
        "  hint: names are fixed for every stack",
        id="project-template",
    ),
    pytest.param(
        "project: Demo\n",
        f"services.yaml:1: project: project 'Demo' is not a valid name\n{NAME_HINT}",
        id="project-case",
    ),
    pytest.param(
        "project: 12\n", f"services.yaml:1: project: project 12 is not a valid name\n{NAME_HINT}", id="project-number"
    ),
    pytest.param("project: " + "a" * 63 + "\n", "no problem", id="project-63-chars"),
    pytest.param(
        "project: " + "a" * 64 + "\n",
        f"services.yaml:1: project: project '{'a' * 64}' is not a valid name\n{NAME_HINT}",
        id="project-64-chars",
    ),
    pytest.param(
        "project: demo\nbaseDomain: example.com\n",
        "services.yaml:2: baseDomain: must map environment names to values (one per environment), not a single "
        "value\n  hint: e.g. baseDomain: {dev: ..., ai: ...}",
        id="base-domain-single",
    ),
    pytest.param(
        "project: demo\nnamespace:\n  patterns:\n    - demo-dev\n",
        "services.yaml:3: namespace.patterns: must map environment names to values (one per environment), not a "
        "list\n  hint: e.g. namespace.patterns: {dev: ..., ai: ...}",
        id="namespace-patterns-list",
    ),
    pytest.param(
        "project: demo\nvars: [a, b]\n",
        "services.yaml:2: vars: vars must be a mapping of names to values",
        id="vars-list",
    ),
    pytest.param(
        "project: demo\nvars:\n  my-var: 1\n",
        "services.yaml:3: vars.my-var: vars: 'my-var' is not a template name\n  hint: letters, digits and _",
        id="vars-bad-name",
    ),
    pytest.param(
        "project: demo\nvars:\n  first: 1\n  slot: 2\n",
        "services.yaml:4: vars.slot: vars: 'slot' would hide the context variable of that name",
        id="vars-context-name",
    ),
    pytest.param(
        "project: demo\nenvVars: TOKEN\n",
        "services.yaml:2: envVars: envVars must be a mapping of variable names to {secret, description}",
        id="env-vars-scalar",
    ),
    pytest.param(
        "project: demo\nenvVars:\n  1TOKEN: {}\n",
        "services.yaml:3: envVars.1TOKEN: envVars: '1TOKEN' is not an environment variable name",
        id="env-vars-bad-name",
    ),
    pytest.param(
        "project: demo\nenvVars:\n  OK: {}\n  PULUMI_ACCESS_TOKEN: {}\n",
        "services.yaml:4: envVars.PULUMI_ACCESS_TOKEN: envVars: PULUMI_ACCESS_TOKEN may not be read by templates: "
        "it holds the runner's deploy or agent credentials",
        id="env-vars-credentials",
    ),
    pytest.param(
        "project: demo\nenvVars:\n  FOO:\n    secrte: true\n",
        "services.yaml:4: envVars.FOO.secrte: unknown key 'secrte'\n  hint: did you mean 'secret'?",
        id="env-var-unknown-key",
    ),
    pytest.param(
        "project: demo\nenvVars:\n  FOO:\n    colour: red\n",
        "services.yaml:4: envVars.FOO.colour: unknown key 'colour'",
        id="env-var-unknown-key-far",
    ),
    pytest.param(
        "project: demo\nenvVars:\n  FOO:\n    description: x\n    secret: maybe\n",
        "services.yaml:5: envVars.FOO.secret: Input should be a valid boolean, unable to interpret input",
        id="env-var-wrong-type",
    ),
    pytest.param(
        "project: demo\nservices:\n  - name: api\n    depends_on: [db]\n" + DEV,
        "services.yaml:4: services[0].depends_on: unknown key 'depends_on'\n"
        "  hint: did you mean 'dependsOn'? (keys are camelCase)",
        id="snake-case-key",
    ),
    pytest.param(
        "project: demo\nimages:\n  api:\n    type: build\n    repository: r\n" + DEV,
        "services.yaml:3: images.api.tagTemplate: missing required key 'tagTemplate'",
        id="missing-key-of-union-member",
    ),
    pytest.param(
        "project: demo\nservices: {}\n",
        "services.yaml:2: services: services must be a list of items",
        id="services-map",
    ),
    pytest.param(
        "project: demo\ninfrastructure: db\n",
        "services.yaml:2: infrastructure: infrastructure must be a list of items",
        id="infrastructure-scalar",
    ),
    pytest.param(
        "project: demo\nservices:\n  - name: api\n  - [web]\n",
        "services.yaml:4: services[1]: an item must be a mapping with a name, not a list",
        id="item-list",
    ),
    pytest.param(
        "project: demo\nservices:\n  - api\n",
        "services.yaml:3: services[0]: an item must be a mapping with a name, not a string",
        id="item-string",
    ),
    pytest.param(
        "project: demo\ninfrastructure:\n  - name: db\n  -\n",
        "services.yaml:4: infrastructure[1]: an item must be a mapping with a name, not empty",
        id="item-empty",
    ),
    pytest.param(
        "project: demo\nservices:\n  - 3\n  - true\n",
        "services.yaml:3: services[0]: an item must be a mapping with a name, not a number\n"
        "services.yaml:4: services[1]: an item must be a mapping with a name, not a boolean",
        id="item-number-and-boolean",
    ),
    pytest.param("demo\n", "services.yaml:1: the top level must be a mapping of keys, not a string", id="top-string"),
    pytest.param(
        "project: demo\nservices:\n  - image: x\n",
        "services.yaml:3: services[0]: missing required key 'name'",
        id="item-without-name",
    ),
    pytest.param(
        "project: demo\ninfrastructure:\n  - name: '{{ env }}-db'\n",
        "services.yaml:3: infrastructure[0].name: the item's name must be written out, not a template\n"
        "  hint: names are fixed for every stack",
        id="item-name-template",
    ),
    pytest.param(
        "project: demo\nservices:\n  - name: my_api\n",
        f"services.yaml:3: services[0].name: the item's name 'my_api' is not a valid name\n{NAME_HINT}",
        id="item-name-invalid",
    ),
    pytest.param(
        "project: demo\ninfrastructure:\n  - name: db\nservices:\n  - name: api\n  - name: db\n",
        "services.yaml:6: services[1].name: infrastructure and service names must be unique (they name "
        "components): 'db' is also infrastructure[0]",
        id="item-name-twice",
    ),
    pytest.param(
        "project: demo\nenvironments: [dev]\n",
        "services.yaml:2: environments: environments must be a mapping of environment names",
        id="environments-list",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev: {}\n  '': {}\n",
        f"services.yaml:4: environments: environment name '' is not usable: it is empty\n{ENV_NAME_HINT}",
        id="environment-name-empty",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev/x: {}\n",
        "services.yaml:3: environments: environment name 'dev/x' is not usable: invalid character '/' at "
        f"position 4\n{ENV_NAME_HINT}",
        id="environment-name-slash",
    ),
    pytest.param(
        "project: demo\nnamespace:\n  patterns:\n    " + "e" * 100 + ": demo\nenvironments:\n  " + "e" * 100 + ": {}\n",
        "no problem",
        id="environment-name-100",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  " + "e" * 101 + ": {}\n",
        "services.yaml:3: environments: environment name '" + "e" * 39 + "… is not usable: it is 101 characters "
        f"long; a stack name has at most 100\n{ENV_NAME_HINT}",
        id="environment-name-101",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev: staging\n",
        "services.yaml:3: environments.dev: environment 'dev' must be a mapping",
        id="environment-scalar",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev:\n    from: '{{ env }}'\n",
        "services.yaml:4: environments.dev.from: environment 'dev': 'from' must be written out, not a template",
        id="environment-from-template",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev: {}\n  ai: {from: prod}\n",
        "services.yaml:4: environments.ai.from: environment 'ai': 'from' names unknown environment 'prod'\n"
        "  hint: known environments: ai, dev",
        id="environment-from-unknown",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  a: {from: b}\n  b: {from: a}\n",
        f"services.yaml:3: environments.a.from: environment 'a': 'from' loops (a -> b -> a)\n{LOOP_HINT}",
        id="environment-from-loop",
    ),
    pytest.param(
        "project: demo\nenvironments:\n  dev: {}\n  ai:\n    from: ai\n",
        f"services.yaml:5: environments.ai.from: environment 'ai': 'from' loops (ai -> ai)\n{LOOP_HINT}",
        id="environment-from-itself",
    ),
    pytest.param(
        "project: demo\nservices:\n  - name: api\n    overlays:\n      prod: {}\n" + DEV,
        "services.yaml:5: services[0].overlays.prod: api: overlays names unknown environment 'prod'\n"
        "  hint: known environments: dev",
        id="document-fail-at-key-path",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
