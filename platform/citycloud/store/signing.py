"""Ed25519 keys that sign the audit ledger's digests and prune anchors.

A key directory holds, per key, ``<key_id>.pem`` (private, mode 0600) and
``<key_id>.pub`` (public), plus ``current`` naming the key that signs now.
Rotation makes a new key current and destroys the old private key; its public
key stays, so every digest ever signed still verifies by its key id.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from pathlib import Path

from citycloud.errors import StoreError

# The "audit" extra brings cryptography; the core install runs without it
# (records are still hash-chained, digests are not signed).
try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
except ImportError:  # pragma: no cover - exercised only on a core install
    HAVE_CRYPTOGRAPHY = False
else:
    HAVE_CRYPTOGRAPHY = True

log = logging.getLogger(__name__)

KEY_DIR_ENV = "CITYCLOUD_AUDIT_KEY_DIR"


class AuditKeyError(StoreError):
    """A signing key is missing, unreadable or too widely readable."""


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Create with 0600 from the start: never a moment where others can read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


class KeyRing:
    """The signing keys in one directory."""

    def __init__(self, key_dir: str | os.PathLike[str]) -> None:
        if not HAVE_CRYPTOGRAPHY:
            raise AuditKeyError(
                "signing needs the cryptography package: pip install 'citycloud[audit]'"
            )
        self.key_dir = Path(key_dir)

    @classmethod
    def from_env(cls, default: str | os.PathLike[str]) -> KeyRing:
        return cls(os.environ.get(KEY_DIR_ENV) or default)

    # -- keys -------------------------------------------------------------

    def current_key_id(self) -> str | None:
        marker = self.key_dir / "current"
        if not marker.exists():
            return None
        return marker.read_text(encoding="ascii").strip() or None

    def ensure_key(self) -> str:
        """The current key id, making a first key if the directory has none."""
        current = self.current_key_id()
        return current if current is not None else self.rotate()

    def rotate(self) -> str:
        """Make a new current key; destroy the previous private key."""
        self.key_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.key_dir, 0o700)
        previous = self.current_key_id()
        key = Ed25519PrivateKey.generate()
        key_id = _key_id(key.public_key())
        _write_private(self.key_dir / f"{key_id}.pem", key)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (self.key_dir / f"{key_id}.pub").write_bytes(public_pem)
        tmp = self.key_dir / "current.tmp"
        tmp.write_text(key_id + "\n", encoding="ascii")
        tmp.replace(self.key_dir / "current")
        if previous is not None and previous != key_id:
            old = self.key_dir / f"{previous}.pem"
            if old.exists():
                old.unlink()
        log.info("Audit signing key rotated: %s -> %s", previous, key_id)
        return key_id

    def key_ids(self) -> list[str]:
        """Every key id with a public key here, current or retired."""
        if not self.key_dir.is_dir():
            return []
        return sorted(p.stem for p in self.key_dir.glob("*.pub"))

    def has_public_key(self, key_id: str) -> bool:
        return (self.key_dir / f"{key_id}.pub").exists()

    def _private(self, key_id: str) -> Ed25519PrivateKey:
        path = self.key_dir / f"{key_id}.pem"
        if not path.exists():
            raise AuditKeyError(f"no private key for {key_id} in {self.key_dir}")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise AuditKeyError(f"private key {path} has mode {mode:o}; it must be 600")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(f"{path} is not an Ed25519 key")
        return key

    def _public(self, key_id: str) -> Ed25519PublicKey | None:
        path = self.key_dir / f"{key_id}.pub"
        if not path.exists():
            return None
        key = serialization.load_pem_public_key(path.read_bytes())
        return key if isinstance(key, Ed25519PublicKey) else None

    # -- signatures -------------------------------------------------------

    def sign(self, data: bytes, key_id: str | None = None) -> str:
        """Base64 signature of ``data`` by ``key_id`` (default: the current key)."""
        signature = self._private(key_id or self.ensure_key()).sign(data)
        return base64.b64encode(signature).decode("ascii")

    def verify(self, key_id: str, data: bytes, signature: str) -> bool:
        """True when ``signature`` is a valid signature of ``data`` by ``key_id``."""
        public = self._public(key_id)
        if public is None:
            return False
        try:
            public.verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True
