"""The audit ledger: one append-only, hash-chained table for every event.

Sign-ins, portal access and refusals, onboarding steps, every applied change,
scheduler decisions and Keycloak's own events all land here with one schema.
Each record's hash covers its content (through ``body_hash``), its sequence
number and the previous record's hash, so editing, deleting, inserting or
reordering a record breaks the chain at that record. Every ``digest_every``
records the tip of the chain is signed with the current Ed25519 key
(:mod:`citycloud.store.signing`), which catches a forger who rewrites the whole
chain after the edited record.

Appends from several processes are serialised by locking the single
``audit_head`` row first: a row lock on PostgreSQL, the database write lock on
SQLite.

Retention removes record content once it is older than the spec's retention,
unless a hold covers it (a hold on an organisation covers the subtree it had
when the hold was set, see :class:`Hold`). A pruned record keeps its chain
links; a leading run of pruned records is replaced by a signed anchor, so the
chain still verifies.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.elements import ColumnElement

from citycloud.errors import StoreError
from citycloud.plan.model import Plan
from citycloud.store.audit_schema import (
    GENESIS_HASH,
    audit_anchor,
    audit_digest,
    audit_head,
    audit_hold,
    audit_hold_org,
    audit_ingested,
    audit_record,
)
from citycloud.store.signing import (
    HAVE_CRYPTOGRAPHY,
    KEY_DIR_ENV,
    AuditKeyError,
    KeyRing,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_RETENTION = timedelta(days=180)
DEFAULT_DIGEST_EVERY = 1000

# The kinds other parts of citycloud write. Any lower-case dotted name is
# accepted so a new event source does not need a change here first.
KINDS = (
    "auth.login",
    "auth.logout",
    "portal.page",
    "portal.app_open",
    "portal.denied",
    "onboarding.request",
    "onboarding.approve",
    "onboarding.reject",
    "onboarding.withdraw",
    "apply.change",
    "scheduler.decision",
    "keycloak.event",
    "keycloak.admin_event",
    "audit.export",
    "audit.prune",
    "audit.hold",
    "audit.release",
)
_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

# Detail keys whose values must never reach the ledger (and so no export).
_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|credential|private[_-]?key|api[_-]?key",
    re.IGNORECASE,
)
REDACTED = "***"

EXPORT_COLUMNS = (
    "seq",
    "time",
    "kind",
    "actor",
    "actor_org_code",
    "tenant",
    "target",
    "action",
    "outcome",
    "detail",
    "hash",
)


class AuditError(StoreError):
    """The audit ledger refused an operation (bad input, missing key)."""


# -- canonical form and hashing ---------------------------------------------


def canonical_json(value: Any) -> str:
    """The one serialisation every hash and signature is computed over."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def format_time(moment: datetime) -> str:
    """UTC, microseconds, fixed width: sorts as text in time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def body_hash(body: Mapping[str, Any]) -> str:
    return _sha256(canonical_json(body))


def chain_hash(seq: int, prev_hash: str, body_digest: str) -> str:
    return _sha256(
        canonical_json({"body_hash": body_digest, "prev_hash": prev_hash, "seq": seq})
    )


def redact_detail(value: Any) -> Any:
    """A copy of ``value`` with every secret-named key's value replaced."""
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) else redact_detail(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_detail(v) for v in value]
    return value


_BODY_FIELDS = (
    "time",
    "kind",
    "actor",
    "actor_org_code",
    "tenant",
    "target",
    "action",
    "outcome",
)


# What a pruned record keeps: its chain links, nothing about the event.
_PRUNED_VALUES: dict[str, Any] = {
    **{name: None for name in (*_BODY_FIELDS, "detail")},
    "pruned": True,
}


def _new_id(result: Any) -> int:
    """The id the database gave the row just inserted."""
    key = result.inserted_primary_key
    if key is None:
        raise AuditError("the database returned no id for a new row")
    return int(key[0])


def _length(column: Any) -> int | None:
    """The declared length of a text column (None: unbounded)."""
    return getattr(column.type, "length", None)


def _clip(value: str | None, column: str) -> str | None:
    """Fit ``value`` into its column: PostgreSQL refuses longer text."""
    return _fit(value, _length(audit_record.c[column]))


def _fit(value: str | None, length: int | None) -> str | None:
    if value is None or length is None or len(value) <= length:
        return value
    return value[: length - 1] + "…"


def body_of_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The hashed content of a stored record (what body_hash covers)."""
    body = {name: row[name] for name in _BODY_FIELDS}
    body["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return body


# -- records and results ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    time: datetime | None
    kind: str | None
    actor: str | None
    actor_org_code: str | None
    tenant: str | None
    target: str | None
    action: str | None
    outcome: str | None
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str
    pruned: bool = False

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AuditRecord:
        return cls(
            seq=int(row["seq"]),
            time=parse_time(row["time"]) if row["time"] else None,
            kind=row["kind"],
            actor=row["actor"],
            actor_org_code=row["actor_org_code"],
            tenant=row["tenant"],
            target=row["target"],
            action=row["action"],
            outcome=row["outcome"],
            detail=json.loads(row["detail"]) if row["detail"] else {},
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            pruned=bool(row["pruned"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain values, as written to JSON Lines exports."""
        return {
            "seq": self.seq,
            "time": format_time(self.time) if self.time else None,
            "kind": self.kind,
            "actor": self.actor,
            "actor_org_code": self.actor_org_code,
            "tenant": self.tenant,
            "target": self.target,
            "action": self.action,
            "outcome": self.outcome,
            "detail": dict(self.detail),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Event:
    """One event to append; the keyword arguments of :meth:`AuditLedger.append`."""

    kind: str
    actor: str | None = None
    org_code: str | None = None
    tenant: str | None = None
    target: str | None = None
    action: str | None = None
    outcome: str = "ok"
    detail: Mapping[str, Any] | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerifyProblem:
    """One thing wrong. ``seq`` names the record, ``digest_id`` the digest."""

    code: str
    message: str
    seq: int | None = None
    digest_id: int | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    records_checked: int
    digests_checked: int
    problems: tuple[VerifyProblem, ...] = ()
    last_seq: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        """The lowest record number that is edited, missing, extra or moved."""
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None


@dataclass(frozen=True, slots=True)
class Hold:
    """A legal or disciplinary hold: records it covers outlive the retention.

    Every criterion given must match. A hold on an organisation covers the
    fixed set ``org_codes``: the organisation the auditor named and, when the
    spec was at hand, every organisation under it as the spec stood when the
    hold was set. The set is stored with the hold (and in its own hash-chained
    ``audit.hold`` record) rather than worked out from the spec again at prune
    time because a hold must keep what it covered when it was placed: a
    township moved to another county, renamed or dropped from the spec during
    the investigation still has its staff's records kept, prune needs no spec,
    and anyone can read from the ledger exactly what was held. The price: an
    organisation added under the county after the hold is not covered; set a
    further hold for it. A prefix rule on the division codes would avoid that,
    but the spec does not require a child's code to start with its parent's,
    so it could both miss a subtree and catch strangers.

    ``org_codes`` None with an ``org_code`` means that one code only (holds
    made before codes were stored with them, or without a spec).
    """

    id: int
    reason: str
    created_by: str
    created_at: datetime
    actor: str | None = None
    org_code: str | None = None
    tenant: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    released_at: datetime | None = None
    org_codes: frozenset[str] | None = None
    org_name: str | None = None

    @property
    def covered_orgs(self) -> frozenset[str] | None:
        """The organisation codes whose records this hold keeps (None: any)."""
        if self.org_codes:
            return self.org_codes
        return None if self.org_code is None else frozenset({self.org_code})

    def covers(self, row: Mapping[Any, Any]) -> bool:
        """Does this hold keep the record ``row`` (a mapping of its columns)?"""
        if self.actor is not None and row["actor"] != self.actor:
            return False
        orgs = self.covered_orgs
        if orgs is not None and row["actor_org_code"] not in orgs:
            return False
        if self.tenant is not None and row["tenant"] != self.tenant:
            return False
        if self.since is not None and row["time"] < format_time(self.since):
            return False
        return not (self.until is not None and row["time"] >= format_time(self.until))

    def scope(self) -> dict[str, Any]:
        """What the hold covers, as plain values (only the criteria given)."""
        orgs = self.covered_orgs
        values: dict[str, Any] = {
            "actor": self.actor,
            "org_code": self.org_code,
            "org_name": self.org_name,
            "org_codes": sorted(orgs) if orgs is not None else None,
            "tenant": self.tenant,
            "since": format_time(self.since) if self.since else None,
            "until": format_time(self.until) if self.until else None,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True, slots=True)
class PruneResult:
    pruned: int
    held: int
    anchor_seq: int | None
    cutoff: datetime


@dataclass(frozen=True, slots=True)
class Filters:
    """Auditor filters: every given one must match; org_codes is a set of codes."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    org_codes: frozenset[str] | None = None
    tenant: str | None = None
    kinds: frozenset[str] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        c = audit_record.c
        clauses: list[ColumnElement[bool]] = [c.pruned.is_(False)]
        if self.since is not None:
            clauses.append(c.time >= format_time(self.since))
        if self.until is not None:
            clauses.append(c.time < format_time(self.until))
        if self.actor is not None:
            clauses.append(c.actor == self.actor)
        if self.org_codes is not None:
            clauses.append(c.actor_org_code.in_(sorted(self.org_codes)))
        if self.tenant is not None:
            clauses.append(c.tenant == self.tenant)
        if self.kinds is not None:
            clauses.append(c.kind.in_(sorted(self.kinds)))
        return clauses

    def describe(self) -> dict[str, Any]:
        """The filters as plain values, for the export's own audit record."""
        return {
            "since": format_time(self.since) if self.since else None,
            "until": format_time(self.until) if self.until else None,
            "actor": self.actor,
            "org_codes": sorted(self.org_codes) if self.org_codes is not None else None,
            "tenant": self.tenant,
            "kinds": sorted(self.kinds) if self.kinds is not None else None,
        }


def _engine_of(store: Any) -> Engine:
    if isinstance(store, Engine):
        return store
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        raise AuditError(f"{store!r} has no SQLAlchemy engine")
    return engine


def _is_lock_timeout(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


# -- the ledger -----------------------------------------------------------------


class AuditLedger:
    """The ledger over a state store (or a bare SQLAlchemy engine).

    ``signer`` signs digests and prune anchors; without it records are still
    chained but no digest is written. ``clock`` returns the current UTC time.
    """

    def __init__(
        self,
        store: Any,
        *,
        signer: KeyRing | None = None,
        digest_every: int = DEFAULT_DIGEST_EVERY,
        clock: Callable[[], datetime] | None = None,
        lock_wait: float = 120.0,
    ) -> None:
        self.engine = _engine_of(store)
        self.signer = signer
        self.digest_every = digest_every
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock_wait = lock_wait
        self._ensure_head()

    def _ensure_head(self) -> None:
        with self.engine.begin() as conn:
            if conn.execute(select(audit_head.c.id)).first() is not None:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS_HASH))
        except IntegrityError:
            pass  # another process made it first

    # -- writing -----------------------------------------------------------

    def _locked(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction holding the ledger lock.

        SQLite answers a busy lock with an error after its own timeout rather
        than waiting forever; retry until ``lock_wait`` has passed.
        """
        deadline = _time.monotonic() + self.lock_wait
        pause = 0.01
        while True:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(audit_head)
                        .where(audit_head.c.id == 1)
                        .values(seq=audit_head.c.seq)
                    )
                    return work(conn)
            except OperationalError as error:
                if not _is_lock_timeout(error) or _time.monotonic() > deadline:
                    raise StoreError(
                        f"audit ledger write failed: {error.orig}"
                    ) from error
                log.debug("Audit ledger busy, retrying in %.2f s", pause)
                _time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _append_locked(
        self, conn: Connection, events: Sequence[Event]
    ) -> list[AuditRecord]:
        head = conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).one()
        seq, prev = int(head.seq), str(head.hash)
        rows: list[dict[str, Any]] = []
        now = self.clock()
        for event in events:
            if not _KIND.match(event.kind):
                raise AuditError(f"audit kind {event.kind!r} is not a dotted name")
            seq += 1
            detail = redact_detail(
                json.loads(json.dumps(event.detail or {}, default=str))
            )
            row: dict[str, Any] = {
                "time": format_time(event.time or now),
                "kind": event.kind,
                "actor": _clip(event.actor, "actor"),
                "actor_org_code": _clip(event.org_code, "actor_org_code"),
                "tenant": _clip(event.tenant, "tenant"),
                "target": _clip(event.target, "target"),
                "action": _clip(event.action, "action"),
                "outcome": _clip(event.outcome, "outcome"),
            }
            body = dict(row, detail=detail)
            digest = body_hash(body)
            row.update(
                seq=seq,
                detail=canonical_json(detail),
                body_hash=digest,
                prev_hash=prev,
                hash=chain_hash(seq, prev, digest),
                pruned=False,
            )
            prev = row["hash"]
            rows.append(row)
        if rows:
            conn.execute(insert(audit_record), rows)
            conn.execute(
                update(audit_head)
                .where(audit_head.c.id == 1)
                .values(seq=seq, hash=prev)
            )
            if self.signer is not None:
                self._maybe_digest(conn, seq, prev)
        return [AuditRecord.from_row(row) for row in rows]

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in the ledger's locked transaction.

        For records that must change together with the caller's own rows (an
        onboarding request and its ledger entry): use :meth:`append_in` inside.
        """
        return self._locked(work)

    def append_in(self, conn: Connection, *events: Event) -> list[AuditRecord]:
        """Append inside :meth:`write`'s transaction."""
        return self._append_locked(conn, events)

    def append(
        self,
        kind: str,
        *,
        actor: str | None = None,
        org_code: str | None = None,
        tenant: str | None = None,
        target: str | None = None,
        action: str | None = None,
        outcome: str = "ok",
        detail: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one event and return it as stored (with seq and hash)."""
        event = Event(kind, actor, org_code, tenant, target, action, outcome, detail)
        (record,) = self._locked(lambda conn: self._append_locked(conn, [event]))
        log.debug("Audit %s #%d by %s", kind, record.seq, actor)
        return record

    def append_many(self, events: Iterable[Event]) -> int:
        """Append many events in one transaction; returns how many."""
        batch = list(events)
        return len(self._locked(lambda conn: self._append_locked(conn, batch)))

    # -- digests -------------------------------------------------------------

    def _last_digest_seq(self, conn: Connection) -> int:
        value = conn.execute(select(func.max(audit_digest.c.seq_to))).scalar()
        return int(value or 0)

    def _maybe_digest(self, conn: Connection, seq: int, head_hash: str) -> None:
        if seq - self._last_digest_seq(conn) >= self.digest_every:
            self._write_digest(conn, seq, head_hash)

    def _write_digest(self, conn: Connection, seq: int, head_hash: str) -> int:
        assert self.signer is not None
        key_id = self.signer.ensure_key()
        payload = {
            "seq_from": self._last_digest_seq(conn) + 1,
            "seq_to": seq,
            "head_hash": head_hash,
            "created_at": format_time(self.clock()),
            "key_id": key_id,
        }
        signature = self.signer.sign(_digest_message(payload), key_id)
        result = conn.execute(
            insert(audit_digest).values(**payload, signature=signature)
        )
        log.info("Audit digest signed up to #%d with key %s", seq, key_id)
        return _new_id(result)

    def seal(self) -> int | None:
        """Sign a digest of the records since the last one; the new seq_to."""
        if self.signer is None:
            raise AuditKeyError("no signing key ring configured")

        def work(conn: Connection) -> int | None:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            if int(head.seq) <= self._last_digest_seq(conn):
                return None
            self._write_digest(conn, int(head.seq), str(head.hash))
            return int(head.seq)

        return self._locked(work)

    # -- reading -------------------------------------------------------------

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        org_codes: Iterable[str] | None = None,
        tenant: str | None = None,
        kinds: Iterable[str] | None = None,
        limit: int | None = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[AuditRecord]:
        """Records matching every filter given, by sequence number."""
        filters = make_filters(since, until, actor, org_codes, tenant, kinds)
        order = audit_record.c.seq.desc() if newest_first else audit_record.c.seq
        statement = (
            select(audit_record).where(*filters.where()).order_by(order).offset(offset)
        )
        if limit is not None:
            statement = statement.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [AuditRecord.from_row(row) for row in rows]

    def count(self, filters: Filters | None = None) -> int:
        clauses = (filters or Filters()).where()
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.count()).select_from(audit_record).where(*clauses)
            ).scalar()
        return int(value or 0)

    def iter_records(
        self, filters: Filters | None = None, batch: int = 5000
    ) -> Iterator[AuditRecord]:
        """Every matching record in seq order, read in pages of ``batch``."""
        clauses = (filters or Filters()).where()
        last = -1
        while True:
            with self.engine.connect() as conn:
                rows = (
                    conn.execute(
                        select(audit_record)
                        .where(audit_record.c.seq > last, *clauses)
                        .order_by(audit_record.c.seq)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            for row in rows:
                yield AuditRecord.from_row(row)
            last = int(rows[-1]["seq"])

    # -- verification -------------------------------------------------------

    def verify(self, batch: int = 5000) -> VerifyResult:
        """Walk the chain and every digest; name the first bad record."""
        problems: list[VerifyProblem] = []
        with self.engine.connect() as conn:
            anchor = conn.execute(
                select(audit_anchor).order_by(audit_anchor.c.id.desc()).limit(1)
            ).first()
            digests = conn.execute(
                select(audit_digest).order_by(audit_digest.c.id)
            ).all()
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).first()

        start_seq, prev = 0, GENESIS_HASH
        if anchor is not None:
            start_seq, prev = int(anchor.seq), str(anchor.hash)
            if not self._signature_ok(
                anchor.key_id, _anchor_message(anchor), anchor.signature
            ):
                problems.append(
                    VerifyProblem(
                        "anchor_signature",
                        f"prune anchor at #{anchor.seq} has no valid signature",
                        seq=int(anchor.seq),
                    )
                )

        # Digest checks need the hash at each digest's seq_to, collected on
        # the way past, so one pass over the records is enough.
        wanted = {int(d.seq_to) for d in digests}
        seen_hash: dict[int, str] = {}
        if anchor is not None:
            seen_hash[start_seq] = prev
        expected, checked = start_seq + 1, 0
        chain_broken = False
        last = start_seq
        while not chain_broken:
            with self.engine.connect() as conn:
                rows = (
                    conn.execute(
                        select(audit_record)
                        .where(audit_record.c.seq > last)
                        .order_by(audit_record.c.seq)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                break
            for row in rows:
                problem = _check_row(row, expected, prev, start_seq + 1)
                checked += 1
                if problem is not None:
                    problems.append(problem)
                    chain_broken = True
                    break
                prev = row["hash"]
                if expected in wanted:
                    seen_hash[expected] = prev
                expected += 1
            last = int(rows[-1]["seq"])
        last_good = expected - 1

        covered: int | None = 0
        for digest in sorted(digests, key=lambda d: int(d.seq_to)):
            problem = self._check_digest(digest, seen_hash, last_good, chain_broken)
            if problem is not None:
                problems.append(problem)
                if problem.code == "digest_signature":
                    covered = None  # its range is untrusted: pick up at the next
                    continue
            elif covered is not None and int(digest.seq_from) != covered + 1:
                # Digests are never deleted, pruning included: a gap means one was.
                problems.append(
                    VerifyProblem(
                        "digest_missing",
                        f"no digest covers #{covered + 1}-#{int(digest.seq_from) - 1}: "
                        "a signed digest was deleted",
                        digest_id=int(digest.id),
                    )
                )
            covered = max(covered or 0, int(digest.seq_to))

        if not chain_broken and head is not None and int(head.seq) > last_good:
            problems.append(
                VerifyProblem(
                    "missing_tail",
                    f"the ledger's head is #{head.seq} but records end at #{last_good}",
                    seq=last_good + 1,
                )
            )
        problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
        return VerifyResult(checked, len(digests), tuple(problems), last_good)

    def _signature_ok(self, key_id: str, message: bytes, signature: str) -> bool:
        return self.signer is not None and self.signer.verify(
            key_id, message, signature
        )

    def _check_digest(
        self,
        digest: Any,
        seen_hash: Mapping[int, str],
        last_good: int,
        chain_broken: bool,
    ) -> VerifyProblem | None:
        seq_to, digest_id = int(digest.seq_to), int(digest.id)
        payload = {
            "seq_from": int(digest.seq_from),
            "seq_to": seq_to,
            "head_hash": digest.head_hash,
            "created_at": digest.created_at,
            "key_id": digest.key_id,
        }
        if not self._signature_ok(
            digest.key_id, _digest_message(payload), digest.signature
        ):
            known = self.signer is not None and self.signer.has_public_key(
                digest.key_id
            )
            why = (
                "has no valid signature" if known else "names a key not in the key dir"
            )
            return VerifyProblem(
                "digest_signature",
                f"digest {digest_id} (#{digest.seq_from}-#{seq_to}, key "
                f"{digest.key_id}) {why}",
                digest_id=digest_id,
            )
        if seq_to in seen_hash:
            if seen_hash[seq_to] != digest.head_hash:
                return VerifyProblem(
                    "digest_mismatch",
                    f"digest {digest_id} signed a different chain up to #{seq_to}",
                    seq=int(digest.seq_from),
                    digest_id=digest_id,
                )
            return None
        if chain_broken or seq_to < last_good:
            return None  # before the anchor, or after a break already reported
        return VerifyProblem(
            "missing_tail",
            f"digest {digest_id} covers up to #{seq_to} "
            f"but records end at #{last_good}",
            seq=last_good + 1,
            digest_id=digest_id,
        )

    # -- holds and retention ---------------------------------------------------

    def hold(
        self,
        reason: str,
        *,
        created_by: str,
        actor: str | None = None,
        org_code: str | None = None,
        org_codes: Iterable[str] | None = None,
        org_name: str | None = None,
        tenant: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Keep matching records past retention until released; the hold id.

        ``org_codes`` are the codes a hold on ``org_code`` covers (its subtree
        from the spec, ``org_code`` itself included even if left out); without
        them the hold covers ``org_code`` alone. They are fixed now: see
        :class:`Hold`. ``org_name`` is kept for people reading the hold later.
        """
        if not reason.strip():
            raise AuditError("a hold needs a reason")
        if org_code is None and (org_codes is not None or org_name is not None):
            raise AuditError("org_codes and org_name need the org_code they belong to")
        codes = sorted({org_code, *(org_codes or ())}) if org_code is not None else None
        length = _length(audit_hold_org.c.org_code) or 0
        too_long = [code for code in codes or () if len(code) > length]
        if too_long:
            raise AuditError(f"organisation code {too_long[0]!r} is too long")
        values = {
            "reason": reason,
            "created_by": created_by,
            "created_at": format_time(self.clock()),
            "actor": actor,
            "org_code": org_code,
            "org_name": _fit(org_name, _length(audit_hold.c.org_name)),
            "tenant": tenant,
            "since": format_time(since) if since else None,
            "until": format_time(until) if until else None,
        }

        def work(conn: Connection) -> int:
            hold_id = _new_id(conn.execute(insert(audit_hold).values(**values)))
            if codes:
                conn.execute(
                    insert(audit_hold_org),
                    [{"hold_id": hold_id, "org_code": code} for code in codes],
                )
            detail: dict[str, Any] = {
                k: v for k, v in values.items() if k not in ("created_by", "created_at")
            }
            detail["org_codes"] = codes
            self._append_locked(
                conn,
                [
                    Event(
                        "audit.hold",
                        created_by,
                        target=f"hold:{hold_id}",
                        action="hold",
                        detail=detail,
                    )
                ],
            )
            return hold_id

        return self._locked(work)

    def release_hold(self, hold_id: int, *, released_by: str) -> None:
        def work(conn: Connection) -> None:
            result = conn.execute(
                update(audit_hold)
                .where(audit_hold.c.id == hold_id, audit_hold.c.released_at.is_(None))
                .values(released_at=format_time(self.clock()), released_by=released_by)
            )
            if result.rowcount != 1:
                raise AuditError(f"no active hold {hold_id}")
            self._append_locked(
                conn,
                [
                    Event(
                        "audit.release",
                        released_by,
                        target=f"hold:{hold_id}",
                        action="release",
                    )
                ],
            )

        self._locked(work)

    def holds(self, *, active_only: bool = True) -> list[Hold]:
        statement = select(audit_hold).order_by(audit_hold.c.id)
        codes_of = select(audit_hold_org.c.hold_id, audit_hold_org.c.org_code).join(
            audit_hold, audit_hold.c.id == audit_hold_org.c.hold_id
        )
        if active_only:
            statement = statement.where(audit_hold.c.released_at.is_(None))
            codes_of = codes_of.where(audit_hold.c.released_at.is_(None))
        codes: dict[int, set[str]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
            for hold_id, code in conn.execute(codes_of):
                codes.setdefault(int(hold_id), set()).add(str(code))
        return [_hold_of(row, codes.get(int(row["id"]))) for row in rows]

    def prune(
        self, retention: timedelta = DEFAULT_RETENTION, *, by: str, batch: int = 5000
    ) -> PruneResult:
        """Remove the content of records older than ``retention`` and not held.

        Refuses a retention shorter than the minimum; appends an ``audit.prune``
        record. A leading run of pruned records becomes a signed anchor.
        """
        if retention < DEFAULT_RETENTION:
            raise AuditError(
                f"retention {retention.days} days is below the minimum "
                f"{DEFAULT_RETENTION.days}"
            )
        if self.signer is None:
            raise AuditKeyError(
                "pruning signs an anchor: no signing key ring configured"
            )
        holds = self.holds()
        cutoff = self.clock() - retention

        def work(conn: Connection) -> PruneResult:
            pruned, held, last = 0, 0, 0
            c = audit_record.c
            while True:
                rows = (
                    conn.execute(
                        select(c.seq, c.time, c.actor, c.actor_org_code, c.tenant)
                        .where(
                            c.seq > last,
                            c.pruned.is_(False),
                            c.time < format_time(cutoff),
                        )
                        .order_by(c.seq)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
                if not rows:
                    break
                last = int(rows[-1]["seq"])
                doomed = [r["seq"] for r in rows if not any(h.covers(r) for h in holds)]
                held += len(rows) - len(doomed)
                if doomed:
                    conn.execute(
                        update(audit_record)
                        .where(c.seq.in_(doomed))
                        .values(_PRUNED_VALUES)
                    )
                    pruned += len(doomed)
            anchor_seq = self._compact(conn)
            self._append_locked(
                conn,
                [
                    Event(
                        "audit.prune",
                        by,
                        action="prune",
                        detail={
                            "cutoff": format_time(cutoff),
                            "retention_days": retention.days,
                            "pruned": pruned,
                            "held": held,
                            "anchor_seq": anchor_seq,
                        },
                    )
                ],
            )
            return PruneResult(pruned, held, anchor_seq, cutoff)

        result = self._locked(work)
        log.info(
            "Audit prune: %d records pruned, %d held, cutoff %s",
            result.pruned,
            result.held,
            format_time(result.cutoff),
        )
        return result

    def _compact(self, conn: Connection) -> int | None:
        """Replace the leading run of pruned records by a signed anchor."""
        assert self.signer is not None
        c = audit_record.c
        first_kept = conn.execute(
            select(func.min(c.seq)).where(c.pruned.is_(False))
        ).scalar()
        bound = (
            conn.execute(select(func.max(c.seq))).scalar()
            if first_kept is None
            else None
        )
        last_pruned = int(first_kept) - 1 if first_kept is not None else int(bound or 0)
        stub = conn.execute(
            select(c.seq, c.hash).where(c.seq == last_pruned, c.pruned.is_(True))
        ).first()
        if stub is None:
            return None
        key_id = self.signer.ensure_key()
        created_at = format_time(self.clock())
        message = canonical_json(
            {
                "seq": last_pruned,
                "hash": stub.hash,
                "created_at": created_at,
                "key_id": key_id,
            }
        ).encode("utf-8")
        conn.execute(
            insert(audit_anchor).values(
                seq=last_pruned,
                hash=stub.hash,
                created_at=created_at,
                key_id=key_id,
                signature=self.signer.sign(message, key_id),
            )
        )
        conn.execute(delete(audit_record).where(c.seq <= last_pruned))
        return last_pruned

    # -- exports ------------------------------------------------------------

    def export(
        self,
        out: TextIO,
        fmt: str,
        *,
        by: str,
        by_org: str | None = None,
        filters: Filters | None = None,
    ) -> int:
        """Write matching records as ``csv`` or ``jsonl``; the export is recorded.

        CSV starts with a byte order mark so Excel reads it as UTF-8; ``out``
        must be a text stream that encodes UTF-8 (open with ``newline=""``).
        """
        filters = filters or Filters()
        count, first, last = 0, None, None
        records = self.iter_records(filters)
        if fmt == "csv":
            out.write("\ufeff")
            writer = csv.writer(out)
            writer.writerow(EXPORT_COLUMNS)
            for record in records:
                writer.writerow(_csv_row(record))
                count, last = count + 1, record.seq
                first = first or record.seq
        elif fmt == "jsonl":
            for record in records:
                out.write(canonical_json(record.as_dict()) + "\n")
                count, last = count + 1, record.seq
                first = first or record.seq
        else:
            raise AuditError(f"unknown export format {fmt!r}; use csv or jsonl")
        out.flush()
        self.append(
            "audit.export",
            actor=by,
            org_code=by_org,
            action="export",
            detail={
                "format": fmt,
                "filters": filters.describe(),
                "count": count,
                "first_seq": first,
                "last_seq": last,
            },
        )
        log.info("Audit export by %s: %d records as %s", by, count, fmt)
        return count

    # -- ingestion bookkeeping ------------------------------------------------

    def append_once(self, source: str, items: Sequence[tuple[str, Event]]) -> int:
        """Append events keyed by (source, event id), skipping ids seen before."""

        def work(conn: Connection) -> int:
            ids = [event_id for event_id, _ in items]
            seen = set(
                conn.execute(
                    select(audit_ingested.c.event_id).where(
                        and_(
                            audit_ingested.c.source == source,
                            audit_ingested.c.event_id.in_(ids),
                        )
                    )
                ).scalars()
            )
            fresh: dict[str, Event] = {}
            for event_id, event in items:
                if event_id not in seen and event_id not in fresh:
                    fresh[event_id] = event
            if not fresh:
                return 0
            records = self._append_locked(conn, list(fresh.values()))
            conn.execute(
                insert(audit_ingested),
                [
                    {"source": source, "event_id": event_id, "seq": record.seq}
                    for event_id, record in zip(fresh, records, strict=True)
                ],
            )
            return len(records)

        return self._locked(work) if items else 0


# -- opening ---------------------------------------------------------------------


def default_key_dir(store_url: str) -> Path:
    """Where the signing keys live unless CITYCLOUD_AUDIT_KEY_DIR says otherwise.

    Beside an SQLite state file, so each state store has its own keys;
    ``.citycloud/audit-keys`` for a database server.
    """
    configured = os.environ.get(KEY_DIR_ENV)
    if configured:
        return Path(configured)
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database not in (
        None,
        "",
        ":memory:",
    ):
        return Path(str(url.database)).resolve().parent / "audit-keys"
    return Path(".citycloud") / "audit-keys"


def open_ledger(
    store: Any, *, key_dir: Path | None = None, **options: Any
) -> AuditLedger:
    """The ledger of a state store, signing with the keys that belong to it."""
    url = getattr(store, "url", None) or str(_engine_of(store).url)
    if not HAVE_CRYPTOGRAPHY:
        log.warning("Audit digests are not signed: install 'citycloud[audit]'")
        return AuditLedger(store, signer=None, **options)
    return AuditLedger(
        store, signer=KeyRing(key_dir or default_key_dir(url)), **options
    )


# -- auditor views ------------------------------------------------------------------


class OrgTree(Protocol):
    """What auditor views need from the spec (``citycloud.spec.Spec`` fits)."""

    @property
    def orgs(self) -> Mapping[str, Any]: ...

    def subtree(self, code: str) -> Iterator[str]: ...


def auditor_scope(tree: OrgTree, auditor_org: str, org: str | None = None) -> Filters:
    """The organisation filter an auditor of ``auditor_org`` may see.

    A city-level auditor (the root of the tree) sees everything, records of
    system actors without an organisation included; anyone else sees their own
    organisation and everything under it. ``org`` narrows to one subtree, but
    never beyond the auditor's own.
    """
    org_of = tree.orgs.get(auditor_org)
    if org_of is None:
        raise AuditError(f"unknown organisation {auditor_org}")
    allowed = (
        None
        if getattr(org_of, "parent", None) is None
        else set(tree.subtree(auditor_org))
    )
    if org is None:
        return make_filters(org_codes=allowed)
    if org not in tree.orgs:
        raise AuditError(f"unknown organisation {org}")
    wanted = set(tree.subtree(org))
    return make_filters(org_codes=wanted if allowed is None else wanted & allowed)


def auditor_query(
    ledger: AuditLedger,
    tree: OrgTree,
    *,
    auditor_org: str,
    org: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    tenant: str | None = None,
    kinds: Iterable[str] | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[AuditRecord]:
    """Newest first: what the portal's audit page shows to one auditor."""
    scope = auditor_scope(tree, auditor_org, org)
    return ledger.query(
        since=since,
        until=until,
        actor=actor,
        org_codes=scope.org_codes,
        tenant=tenant,
        kinds=kinds,
        limit=limit,
        offset=offset,
        newest_first=True,
    )


# -- the record of applies -------------------------------------------------------


def record_apply(
    ledger: AuditLedger,
    *,
    apply_id: str | None,
    plan: Plan,
    actor: str,
    status: str,
    org_code: str | None = None,
    error: str | None = None,
) -> int:
    """One ``apply.change`` record per change of ``plan``, naming the plan.

    Only the changed field paths are kept, never their values: desired
    attributes can hold things no auditor export should carry.
    """
    plan_id = plan.digest()
    events = [
        Event(
            "apply.change",
            actor=actor,
            org_code=org_code,
            tenant=change.tenant,
            target=str(change.id),
            action=change.action.value,
            outcome=status,
            detail={
                "plan_id": plan_id,
                "apply_id": apply_id,
                "layer": change.id.layer,
                "kind": change.id.kind,
                "key": change.id.key,
                "fields": [f.path for f in change.fields],
                "error": error,
            },
        )
        for change in plan.changes
    ]
    count = ledger.append_many(events) if events else 0
    if count and ledger.signer is not None:
        # Every apply ends on a signed digest: a forger cannot quietly rewrite
        # the record of what an apply changed.
        ledger.seal()
    return count


# -- helpers ------------------------------------------------------------------


def make_filters(
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    org_codes: Iterable[str] | None = None,
    tenant: str | None = None,
    kinds: Iterable[str] | None = None,
) -> Filters:
    return Filters(
        since=since,
        until=until,
        actor=actor,
        org_codes=frozenset(org_codes) if org_codes is not None else None,
        tenant=tenant,
        kinds=frozenset(kinds) if kinds is not None else None,
    )


def _digest_message(payload: Mapping[str, Any]) -> bytes:
    return canonical_json(dict(payload)).encode("utf-8")


def _anchor_message(anchor: Any) -> bytes:
    return canonical_json(
        {
            "seq": int(anchor.seq),
            "hash": anchor.hash,
            "created_at": anchor.created_at,
            "key_id": anchor.key_id,
        }
    ).encode("utf-8")


def _check_row(
    row: Mapping[Any, Any], expected: int, prev: str, first: int
) -> VerifyProblem | None:
    """The first thing wrong with ``row``, blaming the record that changed.

    A record whose own hash still checks out but whose link does not points at
    the record before it; a hash that checks out under a neighbouring number
    shows a record was inserted or removed and the rest renumbered.
    """
    seq = int(row["seq"])
    if seq != expected:
        return VerifyProblem(
            "missing",
            f"record #{expected} is missing (next record found is #{seq})",
            seq=expected,
        )
    if not row["pruned"]:
        try:
            content_ok = body_hash(body_of_row(row)) == row["body_hash"]
        except (ValueError, TypeError):
            content_ok = False
        if not content_ok:
            return VerifyProblem(
                "content", f"record #{seq} was changed after it was written", seq=seq
            )
    digest = row["body_hash"]
    if chain_hash(seq, row["prev_hash"], digest) != row["hash"]:
        if chain_hash(seq - 1, row["prev_hash"], digest) == row["hash"]:
            return VerifyProblem(
                "inserted",
                f"record #{seq - 1} was inserted: the record now numbered #{seq} "
                f"was written as #{seq - 1}",
                seq=seq - 1,
            )
        if chain_hash(seq + 1, row["prev_hash"], digest) == row["hash"]:
            return VerifyProblem(
                "moved",
                f"record #{seq} is out of place: it was written as #{seq + 1} "
                "(a record before it was deleted, or records were reordered)",
                seq=seq,
            )
        return VerifyProblem(
            "hash", f"record #{seq} is not the record written there", seq=seq
        )
    if row["prev_hash"] != prev:
        if seq > first:
            return VerifyProblem(
                "rewritten",
                f"record #{seq - 1} was rewritten: #{seq} recorded a different hash "
                "for it",
                seq=seq - 1,
            )
        return VerifyProblem(
            "link", f"record #{seq} does not link to the start of the ledger", seq=seq
        )
    return None


def _hold_of(row: Mapping[Any, Any], org_codes: Iterable[str] | None) -> Hold:
    def moment(value: str | None) -> datetime | None:
        return parse_time(value) if value else None

    return Hold(
        id=int(row["id"]),
        reason=row["reason"],
        created_by=row["created_by"],
        created_at=parse_time(row["created_at"]),
        actor=row["actor"],
        org_code=row["org_code"],
        tenant=row["tenant"],
        since=moment(row["since"]),
        until=moment(row["until"]),
        released_at=moment(row["released_at"]),
        org_codes=frozenset(org_codes) if org_codes else None,
        org_name=row["org_name"],
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    # A cell starting like a formula would run in Excel; quote it as text.
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_row(record: AuditRecord) -> list[str]:
    return [
        str(record.seq),
        format_time(record.time) if record.time else "",
        _cell(record.kind),
        _cell(record.actor),
        _cell(record.actor_org_code),
        _cell(record.tenant),
        _cell(record.target),
        _cell(record.action),
        _cell(record.outcome),
        _cell(canonical_json(dict(record.detail))),
        record.hash,
    ]


__all__ = [
    "KINDS",
    "AuditError",
    "AuditLedger",
    "AuditRecord",
    "Event",
    "Filters",
    "Hold",
    "PruneResult",
    "VerifyProblem",
    "VerifyResult",
    "auditor_query",
    "auditor_scope",
    "canonical_json",
    "default_key_dir",
    "make_filters",
    "open_ledger",
    "record_apply",
]
