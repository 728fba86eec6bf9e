"""Persistence: the state store (applied state, apply records), migrations,
and, beside them, the audit ledger and secrets at rest."""

from citycloud.store.state import ApplyRecord, StateStore, default_url

__all__ = ["ApplyRecord", "StateStore", "default_url"]
