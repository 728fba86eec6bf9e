"""Fixtures for the identity tests: a fresh fake Keycloak per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from citycloud.adapters.keycloak.client import KeycloakApi
from tests.fakes.keycloak import FakeKeycloak

ADMIN = ("admin", "s3cret-admin")


@pytest.fixture
def keycloak() -> Iterator[FakeKeycloak]:
    with FakeKeycloak(admin_user=ADMIN[0], admin_password=ADMIN[1]) as fake:
        yield fake


@pytest.fixture
def connect(keycloak: FakeKeycloak) -> Callable[..., KeycloakApi]:
    """``connect(realm, page_size=...)``: an admin session on the fake."""

    def make(realm: str = "chifeng", page_size: int = 100) -> KeycloakApi:
        return KeycloakApi.connect(
            keycloak.url,
            realm,
            username=ADMIN[0],
            password=ADMIN[1],
            page_size=page_size,
        )

    return make
