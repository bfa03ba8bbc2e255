"""Labels the API server would refuse (README, "Bad input"; the Kubernetes docs' "Labels and
Selectors": an optional DNS-subdomain prefix, one '/', a name): a CronJob's Job template labels
are labels too, and a key with two slashes says so.

Written against mutants of codex_stacks/plan/kube_rules.py that lived in a fresh sample (seed
37, issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: jobs
    manifests: [{path: jobs.yaml}]
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    metadata:
      labels:
        team: "-ops"
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: run, image: busybox}]
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    example.com/team/name: web
"""


def _error(make_project: MakeProject, manifest: str) -> PlanError:
    root = make_project(SERVICES, {"jobs.yaml": manifest})
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    return caught.value


def test_a_bad_label_of_a_cronjobs_job_template_is_refused_at_its_line(make_project: MakeProject) -> None:
    error = _error(make_project, CRONJOB)
    assert error.location.file is not None
    assert (error.location.file.name, error.location.line) == ("jobs.yaml", 10)  # the line of 'team'
    # a label value starts and ends with a letter or digit
    assert error.message == (
        "CronJob/demo-dev/nightly: spec.jobTemplate.metadata.labels.team: label value '-ops' must be empty or "
        "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    )


def test_a_label_key_with_two_slashes_is_refused_by_name(make_project: MakeProject) -> None:
    error = _error(make_project, CONFIGMAP)
    assert error.location.file is not None
    assert (error.location.file.name, error.location.line) == ("jobs.yaml", 6)
    assert error.message == (
        "ConfigMap/demo-dev/settings: metadata.labels.example.com/team/name: label key 'example.com/team/name' "
        "may have at most one '/'"
    )
