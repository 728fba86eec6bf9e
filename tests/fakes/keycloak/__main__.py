"""Serve the fake Keycloak until interrupted: ``python -m tests.fakes.keycloak``.

Prints the base URL on the first line (the port is free, chosen by the OS,
unless --port is given). Useful to point the CLI, the portal or the live
suite at it by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from .server import FakeKeycloak


def main() -> None:
    parser = argparse.ArgumentParser(description="fake Keycloak on 127.0.0.1")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeKeycloak(admin_user=args.user, admin_password=args.password)
    fake.start(port=args.port)
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
