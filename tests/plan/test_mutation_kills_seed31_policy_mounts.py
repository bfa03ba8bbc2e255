"""The agent containment policy (docs/security.md, "What the cluster enforces"): which host folders
the agent's workloads may mount, and the reason a refusal carries.

Written against mutants of codex_stacks/plan/policy.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.plan.policy import agent_may_mount, covering_folders, policy_objects


@pytest.mark.parametrize(
    "path",
    [
        "srv/shop/slots/1",  # relative: resolved against whatever the kubelet's working folder is
        "shop-data",
        "/srv/shop/../shop/slots/1",  # '..' in an absolute path: the policy compares text, not folders
        "/srv/shop/slots/1/..",
        "/srv/../home/someone",
    ],
)
def test_a_relative_folder_or_one_with_dot_dot_is_never_mountable(path: str) -> None:
    assert agent_may_mount(path) is False


def test_the_folder_table_keeps_only_absolute_folders_without_dot_dot() -> None:
    # by hand: the first three are refused (relative / '..'), the last one is an ordinary data folder
    paths = ["srv/shop/slots/1", "/srv/shop/x/../slots/2", "/srv/shop/slots/2/..", "/srv/shop/slots/3"]
    assert covering_folders(paths) == ["/srv/shop/slots/3"]


def test_every_refusal_of_the_policy_carries_the_reason_forbidden() -> None:
    # Kubernetes accepts only Unauthorized, Forbidden, Invalid and RequestEntityTooLarge as a
    # validation's reason (ValidatingAdmissionPolicy API reference, Validation.reason; the API
    # server refuses the policy otherwise); a refused workload is HTTP 403 Forbidden
    policy, _binding = (item.manifest for item in policy_objects("shop", {"shop-ai-1": ["/srv/shop/slots/1"]}))
    validations = policy["spec"]["validations"]
    assert len(validations) >= 6
    assert {validation["reason"] for validation in validations} == {"Forbidden"}
