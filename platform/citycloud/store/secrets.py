"""Secrets at rest: tenant credentials and client secrets, encrypted.

Values are encrypted with Fernet (AES-128-CBC plus HMAC-SHA256, from the
cryptography package) before they reach the state store. The key comes from
``CITYCLOUD_SECRET_KEY`` (one or more keys, comma separated, the first one
encrypts) or from a key file with mode 0600 (one key per line). Rotation
re-encrypts every stored value under a fresh key.

Every value this process reads or writes is remembered in a registry so that
:class:`RedactingFilter` can blank it out of log lines, and
:func:`find_secrets` can prove it appears in no plan, artifact or export.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import make_url

from citycloud.errors import StoreError

try:
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet
except ImportError:  # pragma: no cover - the core install has no "audit" extra
    HAVE_CRYPTOGRAPHY = False
else:
    HAVE_CRYPTOGRAPHY = True
from citycloud.spec.tree import Spec
from citycloud.store.audit_schema import secret

log = logging.getLogger(__name__)

SECRET_KEY_ENV = "CITYCLOUD_SECRET_KEY"
SECRET_KEY_FILE_ENV = "CITYCLOUD_SECRET_KEY_FILE"
MASK = "******"
# Shorter values would blank out ordinary words in every log line.
MIN_REDACT_LENGTH = 6


class SecretError(StoreError):
    """A secret or its key is missing, unreadable, or cannot be decrypted."""


# -- which values are secret ----------------------------------------------------


class SecretRegistry:
    """The secret values this process has seen, by name, for redaction."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, str] = {}

    def add(self, name: str, value: str) -> None:
        if len(value) >= MIN_REDACT_LENGTH:
            with self._lock:
                self._values[value] = name

    def items(self) -> list[tuple[str, str]]:
        """(value, name) pairs, longest value first so overlaps redact fully."""
        with self._lock:
            pairs = list(self._values.items())
        return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)

    def redact(self, text: str) -> str:
        for value, _name in self.items():
            if value in text:
                text = text.replace(value, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


REGISTRY = SecretRegistry()


def find_secrets(
    text: str, secrets: Mapping[str, str] | SecretRegistry | None = None
) -> list[str]:
    """Names of the secrets whose value appears in ``text`` (sorted)."""
    if secrets is None:
        secrets = REGISTRY
    pairs = (
        secrets.items()
        if isinstance(secrets, SecretRegistry)
        else [(value, name) for name, value in secrets.items()]
    )
    return sorted({name for value, name in pairs if value and value in text})


def find_secrets_in_files(
    paths: Iterable[Path], secrets: Mapping[str, str] | SecretRegistry | None = None
) -> dict[str, list[str]]:
    """For each file (searched recursively) holding a secret: the secret names."""
    found: dict[str, list[str]] = {}
    for root in paths:
        files = (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.is_file())
        )
        for path in files:
            text = path.read_bytes().decode("utf-8", errors="replace")
            names = find_secrets(text, secrets)
            if names:
                found[str(path)] = names
    return found


class RedactingFilter(logging.Filter):
    """Replaces known secret values in a log record's message and traceback."""

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self.registry = registry or REGISTRY

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a broken format string: logging reports it itself
        cleaned = self.registry.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.registry.redact(record.exc_text)
        return True


_factory_lock = threading.Lock()
_installed_factory: Callable[..., logging.LogRecord] | None = None
_previous_factory: Callable[..., logging.LogRecord] | None = None


def install_log_redaction(registry: SecretRegistry | None = None) -> None:
    """Redact every log record this process makes, whatever handler it reaches.

    Filters on a logger do not see records from its children, and handlers
    come and go; the record factory sees every record, so it is hooked there.
    """
    global _installed_factory, _previous_factory
    redactor = RedactingFilter(registry)
    with _factory_lock:
        if _installed_factory is not None:
            return
        previous = logging.getLogRecordFactory()
        _previous_factory = previous

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redactor.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed_factory = factory


def remove_log_redaction() -> None:
    """Undo :func:`install_log_redaction` (for tests that must restore logging)."""
    global _installed_factory
    with _factory_lock:
        if _installed_factory is None:
            return
        if logging.getLogRecordFactory() is _installed_factory:
            logging.setLogRecordFactory(_previous_factory or logging.LogRecord)
        _installed_factory = None


# -- keys -------------------------------------------------------------------------


def _require_cryptography() -> None:
    if not HAVE_CRYPTOGRAPHY:
        raise SecretError(
            "secrets need the cryptography package: pip install 'citycloud[audit]'"
        )


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretError(f"secret key file {path} has mode {mode:o}; it must be 600")


class SecretKeys:
    """The Fernet keys: the first encrypts, all of them decrypt."""

    def __init__(self, keys: Iterable[str], path: Path | None = None) -> None:
        _require_cryptography()
        self.keys = [k.strip() for k in keys if k.strip()]
        self.path = path
        if not self.keys:
            raise SecretError("no secret key configured")
        try:
            self.fernet = MultiFernet([Fernet(k.encode("ascii")) for k in self.keys])
        except (ValueError, UnicodeEncodeError) as error:
            raise SecretError("the secret key is not a valid Fernet key") from error

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, create: bool = False
    ) -> SecretKeys:
        """Keys from ``path``; with ``create``, a missing file gets a new key."""
        _require_cryptography()
        path = Path(path)
        if not path.exists():
            if not create:
                raise SecretError(f"secret key file {path} does not exist")
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_key_file(path, [Fernet.generate_key().decode("ascii")])
            log.info("Secret key created at %s", path)
        _check_private(path)
        return cls(path.read_text(encoding="ascii").splitlines(), path)

    @classmethod
    def load(cls, default_file: str | os.PathLike[str] | None = None) -> SecretKeys:
        """The environment's key if set, else the key file (made on first use)."""
        from_env = os.environ.get(SECRET_KEY_ENV)
        if from_env:
            return cls(from_env.split(","))
        named = os.environ.get(SECRET_KEY_FILE_ENV) or default_file
        if named is None:
            raise SecretError(f"set {SECRET_KEY_ENV} or {SECRET_KEY_FILE_ENV}")
        return cls.from_file(named, create=True)


def _write_key_file(path: Path, keys: list[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def default_key_file(store_url: str) -> Path:
    """``secret.key`` beside an SQLite state file, else in ``.citycloud``."""
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database not in (
        None,
        "",
        ":memory:",
    ):
        return Path(str(url.database)).resolve().parent / "secret.key"
    return Path(".citycloud") / "secret.key"


# -- the store --------------------------------------------------------------------


def _engine_of(store: Any) -> Engine:
    if isinstance(store, Engine):
        return store
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        raise SecretError(f"{store!r} has no SQLAlchemy engine")
    return engine


class SecretStore:
    """Named secrets, encrypted in the state store's ``secret`` table.

    Names are paths such as ``tenant/<slug>/openstack-password`` or
    ``client/<client-id>``; they are not secret, values are.
    """

    def __init__(
        self,
        store: Any,
        keys: SecretKeys,
        *,
        registry: SecretRegistry | None = None,
    ) -> None:
        self._table = secret
        self.engine = _engine_of(store)
        self.keys = keys
        self.registry = registry or REGISTRY

    def put(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``, replacing any earlier value."""
        self.registry.add(name, value)
        token = self.keys.fernet.encrypt(value.encode("utf-8")).decode("ascii")
        now = datetime.now(UTC).isoformat()
        table = self._table
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(table)
                .where(table.c.name == name)
                .values(ciphertext=token, updated_at=now)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(table).values(name=name, ciphertext=token, updated_at=now)
                )
        log.info("Secret stored: %s", name)

    def get(self, name: str) -> str:
        table = self._table
        with self.engine.connect() as conn:
            token = conn.execute(
                select(table.c.ciphertext).where(table.c.name == name)
            ).scalar()
        if token is None:
            raise SecretError(f"no secret named {name}")
        value = self._decrypt(name, token)
        self.registry.add(name, value)
        return value

    def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        """The stored value, or a new one from ``make`` stored first."""
        if name in self.names():
            return self.get(name)
        value = make()
        self.put(name, value)
        return value

    def delete(self, name: str) -> bool:
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(self._table).where(self._table.c.name == name)
            ).rowcount
        if removed:
            log.info("Secret deleted: %s", name)
        return bool(removed)

    def names(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(self._table.c.name).order_by(self._table.c.name)
                ).scalars()
            )

    def _decrypt(self, name: str, token: str) -> str:
        try:
            return self.keys.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise SecretError(
                f"secret {name} cannot be decrypted with the key"
            ) from error

    def rotate_key(self) -> int:
        """Re-encrypt every secret under a new key; returns how many.

        With a key file, the new key is written first (old keys kept until
        every value is re-encrypted, so a crash loses nothing) and the old keys
        are dropped at the end. With keys from the environment the caller must
        publish the new key: use :meth:`rotate_to` instead.
        """
        if self.keys.path is None:
            raise SecretError(
                f"keys from {SECRET_KEY_ENV} cannot be rotated in place; use rotate_to"
            )
        new_key = Fernet.generate_key().decode("ascii")
        _write_key_file(self.keys.path, [new_key, *self.keys.keys])
        count = self.rotate_to(SecretKeys([new_key, *self.keys.keys], self.keys.path))
        _write_key_file(self.keys.path, [new_key])
        self.keys = SecretKeys([new_key], self.keys.path)
        return count

    def rotate_to(self, keys: SecretKeys) -> int:
        """Re-encrypt everything with ``keys``' first key (old keys must be in it)."""
        table = self._table
        count = 0
        with self.engine.begin() as conn:
            rows = conn.execute(select(table.c.name, table.c.ciphertext)).all()
            for name, token in rows:
                try:
                    fresh = keys.fernet.rotate(token.encode("ascii")).decode("ascii")
                except InvalidToken as error:
                    raise SecretError(f"secret {name} cannot be decrypted") from error
                conn.execute(
                    update(table).where(table.c.name == name).values(ciphertext=fresh)
                )
                count += 1
        self.keys = keys
        log.info("Secret key rotated: %d secrets re-encrypted", count)
        return count


# -- the platform's own secrets ---------------------------------------------------


def client_secret_name(client_id: str) -> str:
    return f"client/{client_id}"


def tenant_credential_name(tenant_slug: str) -> str:
    return f"tenant/{tenant_slug}/service-password"


def ensure_platform_secrets(spec: Spec, secrets: SecretStore) -> dict[str, str]:
    """Make sure every tenant and every app client has its secret stored.

    Tenants get a service account password (what their automation signs in
    to OpenStack with); each app's OpenID Connect client gets a client secret.
    Existing values are kept. Returns {name: value} for the caller to hand to
    the adapter that sets them; the values are registered for redaction.
    """
    wanted = [tenant_credential_name(str(t.slug)) for t in spec.tenants]
    wanted += [client_secret_name(Spec.client_id(t, a)) for t, a in spec.apps()]
    present = set(secrets.names())
    values: dict[str, str] = {}
    for name in wanted:
        if name in present:
            values[name] = secrets.get(name)
        else:
            values[name] = token_urlsafe(32)
            secrets.put(name, values[name])
    return values


def open_secret_store(store: Any) -> SecretStore:
    """The secret store of a state store, with its key from the environment or
    from the key file that belongs to it (made on first use)."""
    url = getattr(store, "url", None) or str(_engine_of(store).url)
    return SecretStore(store, SecretKeys.load(default_key_file(url)))
