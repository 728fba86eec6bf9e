"""ansible-runner over playbooks/tenants.yml, with nothing to touch in a cloud:
the validation play and the reporting of failures per tenant."""

from __future__ import annotations

import pytest

from citycloud.adapters.ansible.runner import run_playbook
from citycloud.errors import PermanentError


def test_tenants_with_nothing_to_do_run_and_change_nothing() -> None:
    result = run_playbook(
        "tenants.yml",
        {
            "租户-一": {"citycloud_tenant_state": "absent"},
            "t2": {"citycloud_tenant_state": "absent"},
        },
        forks=2,
    )
    assert result.succeeded
    assert result.total_changed == 0
    assert sorted(result.ok) == ["t2", "租户-一"]


def test_a_tenant_with_incomplete_variables_fails_by_name() -> None:
    with pytest.raises(PermanentError) as caught:
        run_playbook("tenants.yml", {"broken": {"citycloud_tenant_state": "maybe"}})
    assert "broken" in str(caught.value)
    assert "incomplete variables" in str(caught.value)
