"""A stateful fake of the Keycloak 26 admin REST API and token endpoint.

with FakeKeycloak() as kc:
    admin = KeycloakAdmin(server_url=kc.url, username="admin", ...)
    ...
    kc.app.counts()   # {"reads": .., "writes": .., "tokens": ..}
    kc.state.offset += 120   # move the server clock: admin tokens expire
"""

from .app import FakeKeycloakApp
from .server import FakeKeycloak
from .state import FakeState

__all__ = ["FakeKeycloak", "FakeKeycloakApp", "FakeState"]
