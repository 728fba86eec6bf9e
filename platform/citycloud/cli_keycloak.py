"""Keycloak options of ``citycloud plan`` and ``citycloud apply``.

``--keycloak URL`` puts the identity layer on a live Keycloak: ``plan`` reads
the city realm and lists the differences (groups, roles, clients, mappers,
county delegations), ``apply`` syncs the realm by difference. The admin login
comes from CITYCLOUD_KEYCLOAK_USER and CITYCLOUD_KEYCLOAK_PASSWORD (master
realm, admin-cli), never from the command line. ``citycloud keycloak-events``
prints the realm's login and admin events since a cursor.
"""

from __future__ import annotations

import json
from typing import Any

import click

from citycloud.cli_common import add_command, engine_option, guarded, out, plain_option
from citycloud.spec.tree import Spec

plain_option(
    "--keycloak-page-size",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Keycloak: items per page when reading listings.",
)


@engine_option(
    "--keycloak",
    "keycloak_url",
    envvar="CITYCLOUD_KEYCLOAK_URL",
    default=None,
    help="Keycloak base URL: observe and sync the identity layer live.",
)
def _keycloak_engine(value: Any, spec: Spec, params: dict[str, Any]) -> Any:
    from citycloud.adapters.keycloak.engine import connect_engine

    return connect_engine(
        str(value), spec.realm, page_size=int(params.get("keycloak_page_size") or 100)
    )


@click.command("keycloak-events")
@click.option("--keycloak", "url", envvar="CITYCLOUD_KEYCLOAK_URL", required=True)
@click.option("--realm", required=True, help="Realm whose events to read.")
@click.option(
    "--since",
    type=int,
    default=None,
    help="Epoch ms of the newest event already seen (included).",
)
@guarded
def keycloak_events(url: str, realm: str, since: int | None) -> None:
    """Print the realm's login and admin events since a cursor, as JSON lines."""
    from citycloud.adapters.keycloak import KeycloakApi, pull_events

    api = KeycloakApi.connect(url, realm)
    for event in pull_events(api, since):
        out.print(json.dumps(event, ensure_ascii=False, sort_keys=True), markup=False)


add_command(keycloak_events)
