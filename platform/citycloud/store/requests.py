"""Tenant onboarding requests: who asked for a tenant, who decided, and why.

A department asks for a tenant by handing in a draft written exactly as a
tenant in the spec. The request is routed to the organisations at or above
the owning one (a township's request can be decided by the township, its
county or the city); anyone else cannot decide it, and nobody decides their own
request. Every step is written to the audit ledger in the same transaction as
the request row, so the two never disagree.

Roles (who counts as an approver inside an organisation) are the caller's
business: the portal checks them before calling in.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import Connection, insert, select, update

from citycloud.errors import Problem, SpecError, StoreError
from citycloud.spec.models import Tenant
from citycloud.spec.naming import slug_for
from citycloud.store.audit import AuditLedger, Event, format_time
from citycloud.store.audit_schema import onboarding_request

log = logging.getLogger(__name__)


class RequestError(StoreError):
    """The request does not exist, or this step is not allowed for it."""


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class OrgTree(Protocol):
    """What routing needs from the spec (``citycloud.spec.Spec`` fits)."""

    @property
    def orgs(self) -> Mapping[str, Any]: ...

    def lineage(self, code: str) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class OnboardingRequest:
    id: str
    created_at: str
    department: str
    owner_org_code: str
    tenant_slug: str
    draft: Mapping[str, Any]
    requested_by: str
    state: RequestState
    route: tuple[str, ...]
    decided_by: str | None = None
    decided_by_org: str | None = None
    decided_at: str | None = None
    reason: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> OnboardingRequest:
        return cls(
            id=row["id"],
            created_at=row["created_at"],
            department=row["department"],
            owner_org_code=row["owner_org_code"],
            tenant_slug=row["tenant_slug"],
            draft=json.loads(row["draft"]),
            requested_by=row["requested_by"],
            state=RequestState(row["state"]),
            route=tuple(json.loads(row["route"])),
            decided_by=row["decided_by"],
            decided_by_org=row["decided_by_org"],
            decided_at=row["decided_at"],
            reason=row["reason"],
        )

    def can_be_decided_by(self, approver: str, approver_org_code: str) -> bool:
        """Pending, routed to that organisation, and not the requester's own."""
        return (
            self.state is RequestState.PENDING
            and approver_org_code in self.route
            and approver != self.requested_by
        )


def check_draft(draft: Mapping[str, Any], owner_org_code: str, tree: OrgTree) -> Tenant:
    """The draft as a spec tenant, or SpecError naming every problem in it."""
    where = "<onboarding request>"
    try:
        tenant = Tenant.model_validate(dict(draft))
    except ValidationError as exc:
        raise SpecError(
            Problem(where, None, ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors()
        ) from exc
    problems = []
    if tenant.owner != owner_org_code:
        problems.append(
            Problem(
                where,
                None,
                "owner",
                f"draft owner {tenant.owner} differs from {owner_org_code}",
            )
        )
    if owner_org_code not in tree.orgs:
        problems.append(
            Problem(where, None, "owner", f"unknown organisation {owner_org_code}")
        )
    if tenant.slug is None and slug_for(tenant.name) is None:
        problems.append(
            Problem(
                where,
                None,
                "name",
                f"{tenant.name!r} cannot become an identifier; add a slug",
            )
        )
    if problems:
        raise SpecError(problems)
    return tenant


class OnboardingRequests:
    """The onboarding requests table, with each step recorded in the ledger."""

    def __init__(self, ledger: AuditLedger, tree: OrgTree) -> None:
        self.ledger = ledger
        self.tree = tree

    def create(
        self,
        *,
        department: str,
        owner_org_code: str,
        draft: Mapping[str, Any],
        requested_by: str,
        requested_by_org: str | None = None,
    ) -> OnboardingRequest:
        tenant = check_draft(draft, owner_org_code, self.tree)
        slug = tenant.slug or slug_for(tenant.name) or ""
        route = self.tree.lineage(owner_org_code)
        row = {
            "id": str(uuid.uuid4()),
            "created_at": format_time(self.ledger.clock()),
            "department": department,
            "owner_org_code": owner_org_code,
            "tenant_slug": slug,
            "draft": json.dumps(
                dict(draft), ensure_ascii=False, sort_keys=True, default=str
            ),
            "requested_by": requested_by,
            "state": RequestState.PENDING.value,
            "route": json.dumps(route),
        }

        def work(conn: Connection) -> None:
            conn.execute(insert(onboarding_request).values(**row))
            self.ledger.append_in(
                conn,
                Event(
                    "onboarding.request",
                    actor=requested_by,
                    org_code=requested_by_org,
                    tenant=slug,
                    target=f"request:{row['id']}",
                    action="create",
                    detail={
                        "department": department,
                        "owner_org_code": owner_org_code,
                        "route": route,
                        "tenant_name": tenant.name,
                    },
                ),
            )

        self.ledger.write(work)
        log.info(
            "Onboarding request %s for tenant %s by %s", row["id"], slug, requested_by
        )
        return self.get(row["id"])

    def get(self, request_id: str) -> OnboardingRequest:
        with self.ledger.engine.connect() as conn:
            row = (
                conn.execute(
                    select(onboarding_request).where(
                        onboarding_request.c.id == request_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise RequestError(f"no onboarding request {request_id}")
        return OnboardingRequest.from_row(row)

    def find(
        self,
        *,
        states: Iterable[RequestState] | None = None,
        owner_org_codes: Iterable[str] | None = None,
    ) -> list[OnboardingRequest]:
        table = onboarding_request
        statement = select(table).order_by(table.c.created_at, table.c.id)
        if states is not None:
            statement = statement.where(table.c.state.in_([s.value for s in states]))
        if owner_org_codes is not None:
            statement = statement.where(
                table.c.owner_org_code.in_(list(owner_org_codes))
            )
        with self.ledger.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [OnboardingRequest.from_row(row) for row in rows]

    def pending_for(self, approver_org_code: str) -> list[OnboardingRequest]:
        """Pending requests this organisation may decide (its own subtree's)."""
        return [
            r
            for r in self.find(states=[RequestState.PENDING])
            if approver_org_code in r.route
        ]

    def approve(
        self,
        request_id: str,
        *,
        approver: str,
        approver_org_code: str,
        reason: str = "",
    ) -> OnboardingRequest:
        return self._decide(
            request_id, RequestState.APPROVED, approver, approver_org_code, reason
        )

    def reject(
        self, request_id: str, *, approver: str, approver_org_code: str, reason: str
    ) -> OnboardingRequest:
        if not reason.strip():
            raise RequestError("a rejection needs a reason")
        return self._decide(
            request_id, RequestState.REJECTED, approver, approver_org_code, reason
        )

    def withdraw(self, request_id: str, *, by: str) -> OnboardingRequest:
        request = self.get(request_id)
        if by != request.requested_by:
            raise RequestError("only the requester can withdraw a request")
        return self._transition(
            request, RequestState.WITHDRAWN, by, None, "", kind="onboarding.withdraw"
        )

    def _decide(
        self,
        request_id: str,
        state: RequestState,
        approver: str,
        approver_org_code: str,
        reason: str,
    ) -> OnboardingRequest:
        request = self.get(request_id)
        if request.state is not RequestState.PENDING:
            raise RequestError(f"request {request_id} is already {request.state.value}")
        if approver == request.requested_by:
            raise RequestError("nobody decides their own request")
        if approver_org_code not in request.route:
            raise RequestError(
                f"organisation {approver_org_code} is not on the route "
                f"{'/'.join(request.route)} of request {request_id}"
            )
        kind = (
            "onboarding.approve"
            if state is RequestState.APPROVED
            else "onboarding.reject"
        )
        return self._transition(
            request, state, approver, approver_org_code, reason, kind=kind
        )

    def _transition(
        self,
        request: OnboardingRequest,
        state: RequestState,
        actor: str,
        actor_org: str | None,
        reason: str,
        *,
        kind: str,
    ) -> OnboardingRequest:
        table = onboarding_request
        now = format_time(self.ledger.clock())

        def work(conn: Connection) -> None:
            # Only a pending request moves: a second decision made at the
            # same moment elsewhere finds nothing to update and fails.
            moved = conn.execute(
                update(table)
                .where(
                    table.c.id == request.id,
                    table.c.state == RequestState.PENDING.value,
                )
                .values(
                    state=state.value,
                    decided_by=actor,
                    decided_by_org=actor_org,
                    decided_at=now,
                    reason=reason or None,
                )
            ).rowcount
            if moved != 1:
                raise RequestError(f"request {request.id} is no longer pending")
            self.ledger.append_in(
                conn,
                Event(
                    kind,
                    actor=actor,
                    org_code=actor_org,
                    tenant=request.tenant_slug,
                    target=f"request:{request.id}",
                    action=state.value,
                    detail={"reason": reason, "owner_org_code": request.owner_org_code},
                ),
            )

        self.ledger.write(work)
        log.info("Onboarding request %s %s by %s", request.id, state.value, actor)
        return self.get(request.id)


def requests_by_org(
    requests: Sequence[OnboardingRequest],
) -> dict[str, list[OnboardingRequest]]:
    """Group requests by owning organisation, for the portal's overview."""
    grouped: dict[str, list[OnboardingRequest]] = {}
    for request in requests:
        grouped.setdefault(request.owner_org_code, []).append(request)
    return grouped


__all__ = [
    "OnboardingRequest",
    "OnboardingRequests",
    "RequestError",
    "RequestState",
    "check_draft",
    "requests_by_org",
]
