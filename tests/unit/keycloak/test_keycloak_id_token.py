"""The synced realm's mappers give the portal exactly the claims it reads."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import requests

from citycloud.access import Role, user_from_claims
from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.adapters.keycloak.desired import realm_model
from citycloud.adapters.keycloak.sync import quote_path, sync_realm
from citycloud.desired import build_desired
from citycloud.spec import load_spec
from citycloud.spec.models import Tier
from tests.fakes.keycloak import FakeKeycloak
from tests.fakes.keycloak.chifeng import EXAMPLE


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(
        json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    )


def test_a_township_staff_member_signs_in_to_the_portal(
    keycloak: FakeKeycloak, connect: Callable[..., KeycloakApi]
) -> None:
    spec = load_spec(EXAMPLE)
    api = connect(spec.realm)
    sync_realm(api, realm_model(build_desired(spec, ["identity"])))

    # a person the city's onboarding created (not the sync)
    user_id = api.created_id(
        api.post(
            f"{api.base}/users",
            {
                "username": "liu.yang",
                "enabled": True,
                "credentials": [
                    {"type": "password", "value": "pw", "temporary": False}
                ],
                "attributes": {
                    "org_code": ["150402001"],
                    "tier": ["township"],
                    "department": ["应急管理局"],
                },
            },
        )
    )
    group = api.get(f"{api.base}/group-by-path/{quote_path('/赤峰市/红山区/西屯街道')}")
    api.put(f"{api.base}/users/{user_id}/groups/{group['id']}", {})
    roles = [api.get(f"{api.base}/roles/{r}") for r in ("staff", "tenant-admin")]
    api.post(f"{api.base}/users/{user_id}/role-mappings/realm", roles)

    # the browser flow is out of reach here: let the fake accept a password grant
    realm = keycloak.state.realms[spec.realm]
    portal = next(
        c for c in realm.clients.values() if c.rep["clientId"] == "citycloud-portal"
    )
    portal.rep["directAccessGrantsEnabled"] = True
    answer = requests.post(
        f"{keycloak.url}realms/{spec.realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "citycloud-portal",
            "username": "liu.yang",
            "password": "pw",
            "scope": "openid",
        },
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    claims = claims_of(answer.json()["id_token"])

    assert claims["groups"] == ["/赤峰市/红山区/西屯街道"]
    assert claims["org_code"] == "150402001"
    user = user_from_claims(claims)
    assert user.org_code == "150402001"
    assert user.tier is Tier.TOWNSHIP
    assert user.department == "应急管理局"
    assert user.roles == frozenset({Role.STAFF, Role.TENANT_ADMIN})
    assert user.groups == ("/赤峰市/红山区/西屯街道",)
