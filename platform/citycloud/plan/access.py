"""Who gains or loses access to which app, in words, from a plan.

Each app's OpenID Connect client in the identity layer carries its access
rule (tiers, platform roles, departments, scope, owning organisation). The
plan holds the rule as the realm has it now (``before``) and as the spec wants
it (``after``); this module turns the difference into sentences a department
head can check before an apply: which organisation's people, of which tier
and role, start or stop being able to use the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from citycloud.i18n import language, normalise, register, t
from citycloud.plan.model import Action, Change

register(
    {
        "access.title": {"zh": "访问权限变化：", "en": "Access changes:"},
        "access.new_app": {
            "zh": "新应用「{app}」：{who}将可以访问。",
            "en": "New app “{app}”: {who} will gain access.",
        },
        "access.removed_app": {
            "zh": "应用「{app}」下线：{who}将失去访问。",
            "en": "App “{app}” removed: {who} will lose access.",
        },
        "access.gain": {
            "zh": "应用「{app}」：{who}将获得访问。",
            "en": "App “{app}”: {who} will gain access.",
        },
        "access.lose": {
            "zh": "应用「{app}」：{who}将失去访问。",
            "en": "App “{app}”: {who} will lose access.",
        },
        "access.who": {
            "zh": "{orgs}（{tiers}）中具有 {roles} 角色{departments}的人员",
            "en": "people with role {roles} at {tiers} tier in {orgs}{departments}",
        },
        "access.owner": {
            "zh": "{org}及其下属单位",
            "en": "{org} and the units under it",
        },
        "access.city": {"zh": "全市各单位", "en": "every unit of the city"},
        "access.others": {
            "zh": "{org}及其下属单位以外的全市各单位",
            "en": "every unit of the city outside {org}",
        },
        "access.departments": {"zh": "（限{names}）", "en": " (only {names})"},
        "access.other_departments": {
            "zh": "（{names}以外的部门）",
            "en": " (departments other than {names})",
        },
    }
)

TIER_NAMES = {
    "city": ("市级", "city"),
    "county": ("县级", "county"),
    "township": ("乡级", "township"),
    "village": ("村级", "village"),
}
ALL_TIERS = ("city", "county", "township", "village")


def _lang(lang: str | None) -> str:
    return normalise(lang) if lang else language()


def _join(items: Iterable[str], lang: str) -> str:
    values = list(items)
    return ("、" if lang == "zh" else ", ").join(values)


def _tiers(tiers: Iterable[str], lang: str) -> str:
    index = 0 if lang == "zh" else 1
    ordered = [x for x in ALL_TIERS if x in set(tiers)]
    return _join((TIER_NAMES[x][index] for x in ordered), lang)


def _who(
    rule: Mapping[str, Any],
    orgs: str,
    lang: str,
    *,
    tiers: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    departments: str | None = None,
) -> str:
    chosen_tiers = tiers if tiers is not None else rule.get("tiers") or ALL_TIERS
    chosen_roles = roles if roles is not None else rule.get("roles") or []
    if departments is None:
        names = rule.get("departments") or []
        departments = (
            t("access.departments", lang=lang, names=_join(names, lang))
            if names
            else ""
        )
    return t(
        "access.who",
        lang=lang,
        orgs=orgs,
        tiers=_tiers(chosen_tiers, lang),
        roles=_join(chosen_roles, lang),
        departments=departments,
    )


def _orgs(rule: Mapping[str, Any], names: Mapping[str, str], lang: str) -> str:
    if rule.get("scope") == "city":
        return t("access.city", lang=lang)
    owner = str(rule.get("owner") or "")
    return t("access.owner", lang=lang, org=names.get(owner, owner))


def _differences(
    app: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    names: Mapping[str, str],
    lang: str,
) -> list[str]:
    lines: list[str] = []

    def say(key: str, who: str) -> None:
        lines.append(t(key, lang=lang, app=app, who=who))

    old_orgs, new_orgs = _orgs(old, names, lang), _orgs(new, names, lang)
    if old.get("owner") != new.get("owner") or old.get("scope") != new.get("scope"):
        if (
            old.get("scope") == "owner"
            and new.get("scope") == "city"
            and (old.get("owner") == new.get("owner"))
        ):
            owner = str(new.get("owner") or "")
            others = t("access.others", lang=lang, org=names.get(owner, owner))
            say("access.gain", _who(new, others, lang))
        elif (
            old.get("scope") == "city"
            and new.get("scope") == "owner"
            and (old.get("owner") == new.get("owner"))
        ):
            owner = str(new.get("owner") or "")
            others = t("access.others", lang=lang, org=names.get(owner, owner))
            say("access.lose", _who(old, others, lang))
        else:
            say("access.lose", _who(old, old_orgs, lang))
            say("access.gain", _who(new, new_orgs, lang))
        return lines
    old_roles, new_roles = set(old.get("roles") or []), set(new.get("roles") or [])
    old_tiers = set(old.get("tiers") or ALL_TIERS)
    new_tiers = set(new.get("tiers") or ALL_TIERS)
    if new_roles - old_roles:
        say(
            "access.gain",
            _who(new, new_orgs, lang, roles=sorted(new_roles - old_roles)),
        )
    if old_roles - new_roles:
        say(
            "access.lose",
            _who(old, old_orgs, lang, roles=sorted(old_roles - new_roles)),
        )
    kept_roles = sorted(old_roles & new_roles)
    if kept_roles and new_tiers - old_tiers:
        say(
            "access.gain",
            _who(
                new,
                new_orgs,
                lang,
                tiers=sorted(new_tiers - old_tiers),
                roles=kept_roles,
            ),
        )
    if kept_roles and old_tiers - new_tiers:
        say(
            "access.lose",
            _who(
                old,
                old_orgs,
                lang,
                tiers=sorted(old_tiers - new_tiers),
                roles=kept_roles,
            ),
        )
    old_depts = set(old.get("departments") or [])
    new_depts = set(new.get("departments") or [])
    if old_depts != new_depts and kept_roles:
        if not new_depts:  # opened to every department
            note = t(
                "access.other_departments",
                lang=lang,
                names=_join(sorted(old_depts), lang),
            )
            say(
                "access.gain",
                _who(new, new_orgs, lang, roles=kept_roles, departments=note),
            )
        elif not old_depts:  # narrowed to some departments
            note = t(
                "access.other_departments",
                lang=lang,
                names=_join(sorted(new_depts), lang),
            )
            say(
                "access.lose",
                _who(old, old_orgs, lang, roles=kept_roles, departments=note),
            )
        else:
            if new_depts - old_depts:
                note = t(
                    "access.departments",
                    lang=lang,
                    names=_join(sorted(new_depts - old_depts), lang),
                )
                say(
                    "access.gain",
                    _who(new, new_orgs, lang, roles=kept_roles, departments=note),
                )
            if old_depts - new_depts:
                note = t(
                    "access.departments",
                    lang=lang,
                    names=_join(sorted(old_depts - new_depts), lang),
                )
                say(
                    "access.lose",
                    _who(old, old_orgs, lang, roles=kept_roles, departments=note),
                )
    return lines


def access_summary(
    changes: Iterable[Change],
    org_names: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> list[str]:
    """Sentences on access gained or lost, one per group of people and app."""
    code = _lang(lang)
    names = org_names or {}
    lines: list[str] = []
    for change in changes:
        if change.id.layer != "identity" or change.id.kind != "client":
            continue
        before = (change.before or {}).get("access")
        after = (change.after or {}).get("access")
        attrs = change.after if change.after is not None else change.before or {}
        app = str(attrs.get("name") or change.id.key)
        if change.action is Action.CREATE and after:
            lines.append(
                t(
                    "access.new_app",
                    lang=code,
                    app=app,
                    who=_who(after, _orgs(after, names, code), code),
                )
            )
        elif change.action is Action.DELETE and before:
            lines.append(
                t(
                    "access.removed_app",
                    lang=code,
                    app=app,
                    who=_who(before, _orgs(before, names, code), code),
                )
            )
        elif change.action is Action.UPDATE and before != after:
            if before and after:
                lines.extend(_differences(app, before, after, names, code))
            elif after:
                lines.append(
                    t(
                        "access.gain",
                        lang=code,
                        app=app,
                        who=_who(after, _orgs(after, names, code), code),
                    )
                )
            elif before:
                lines.append(
                    t(
                        "access.lose",
                        lang=code,
                        app=app,
                        who=_who(before, _orgs(before, names, code), code),
                    )
                )
    return lines


def access_note(
    changes: Iterable[Change],
    org_names: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> str | None:
    """The summary as one note for the plan's text, or None when nothing changes."""
    lines = access_summary(changes, org_names, lang)
    if not lines:
        return None
    return "\n".join([t("access.title", lang=lang), *(f"  • {line}" for line in lines)])
