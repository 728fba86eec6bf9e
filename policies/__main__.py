"""The policy pack. Only wiring: the checks live in guardrails.py, where the
tests call them directly (constructing a PolicyPack starts the engine's
server, which only `pulumi preview --policy-pack policies/` should do)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guardrails import POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="citycloud-guardrails", policies=POLICIES)
