#!/usr/bin/env python3
"""A local OpenID Connect provider for the portal's browser tests.

Runs oidc-provider-mock on 127.0.0.1 with predefined users whose ID tokens
carry the same claims the city's Keycloak realm emits: groups (full paths),
org_code, tier, department, roles, preferred_username, name, email.

    portal-oidc-mock.py --port 9400 --users users.json

users.json is a list of claim objects, each with a "sub". The provider keeps
no session: every sign-in shows its login form.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import werkzeug.serving
from oidc_provider_mock import User, app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", type=Path, required=True)
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO)
    users = [
        User(
            sub=str(entry["sub"]), claims={k: v for k, v in entry.items() if k != "sub"}
        )
        for entry in json.loads(args.users.read_text(encoding="utf-8"))
    ]
    # Loopback only: the provider is for tests on this machine.
    werkzeug.serving.run_simple(
        "127.0.0.1",
        args.port,
        app(user_claims=users, require_nonce=True),
        threaded=True,
    )


if __name__ == "__main__":
    main()
