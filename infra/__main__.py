"""Pulumi's entry point: only wiring. The stack's config names the spec; the
desired state built from it is turned into components (see program.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from program import main

main()
