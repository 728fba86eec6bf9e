"""Keycloak adapter: the city realm as code, synced by difference.

* :mod:`.client` - python-keycloak session, explicit paging, error mapping;
* :mod:`.model` - the desired realm in the shapes the sync compares;
* :mod:`.desired` - that model built from the foundation's identity layer;
* :mod:`.sync` - read, compare, write only the difference;
* :mod:`.events` - login and admin events since a cursor, for the audit ledger.
"""

from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.adapters.keycloak.events import KeycloakEvents, pull_events
from citycloud.adapters.keycloak.model import RealmModel
from citycloud.adapters.keycloak.sync import SyncReport, sync_realm

__all__ = [
    "KeycloakApi",
    "KeycloakEvents",
    "RealmModel",
    "SyncReport",
    "pull_events",
    "sync_realm",
]
