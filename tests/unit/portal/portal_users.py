"""Users of every role and tier, as the city's Keycloak realm describes them in
ID-token claims, and a helper that reads a page as a person would."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

# A synthetic village (the divisions data stops at townships) so that every
# tier has a user.
SYNTHETIC_VILLAGE = """\
# Synthetic: the village tier is not in the reference data.
organisations:
  - {code: "150402001201", name: 西屯街道示例社区, level: village, parent: "150402001",
     synthetic: true}
"""


def claims(
    username: str, org: str, tier: str, roles: list[str], group: str, dept: str = ""
) -> dict[str, Any]:
    return {
        "sub": username,
        "preferred_username": username,
        "name": username,
        "email": f"{username}@chifeng.example",
        "org_code": org,
        "tier": tier,
        "department": dept,
        "roles": roles,
        "groups": [group],
    }


USERS: dict[str, dict[str, Any]] = {
    "city-cloud-admin": claims(
        "zhang.admin", "1504", "city", ["cloud-admin"], "/赤峰市", "大数据中心"
    ),
    "city-ops": claims("li.ops", "1504", "city", ["ops"], "/赤峰市", "大数据中心"),
    "city-auditor": claims(
        "wang.audit", "1504", "city", ["auditor"], "/赤峰市", "审计局"
    ),
    "county-admin": claims(
        "zhao.hongshan",
        "150402",
        "county",
        ["tenant-admin", "staff"],
        "/赤峰市/红山区",
        "红山区政法委",
    ),
    "county-auditor": claims(
        "sun.songshan", "150404", "county", ["auditor"], "/赤峰市/松山区", "审计局"
    ),
    "township-staff": claims(
        "qian.mujia",
        "150404100",
        "township",
        ["staff"],
        "/赤峰市/松山区/穆家营子镇",
        "党政综合办",
    ),
    "village-staff": claims(
        "zhou.shequ",
        "150402001201",
        "village",
        ["staff"],
        "/赤峰市/红山区/西屯街道/西屯街道示例社区",
    ),
}


def texts(at: AppTest) -> str:
    """Everything a person would read on the page, as one string."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts.extend(str(el.value) for el in getattr(at, kind))
    parts.extend(str(b.label) for b in at.button)
    return "\n".join(parts)
