"""The policy pack. Only wiring: the checks live in guardrails.py, where the
tests call them directly (constructing a PolicyPack starts the engine's
server, which only `pulumi preview --policy-pack policies/` should do)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_policy import PolicyPack  # noqa: E402

from guardrails import POLICIES  # noqa: E402

PolicyPack(name="citycloud-guardrails", policies=POLICIES)
