"""User-facing text: Simplified Chinese first, English available.

Code, logs and docs are English; whatever a person reads in the CLI or the
portal goes through :func:`t`. Each module registers its own messages next to
the code that uses them, so catalogues do not become one shared hot spot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

_catalogue: dict[str, dict[str, str]] = {}
_current: ContextVar[str | None] = ContextVar("citycloud_lang", default=None)


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages: ``{"key": {"zh": "...", "en": "..."}}``. Both are required."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} lacks {', '.join(missing)}")
        _catalogue[key] = dict(texts)


def normalise(lang: str | None) -> str:
    """Map ``zh-CN``, ``zh_CN.UTF-8``, ``en-US``... to one of LANGUAGES."""
    if not lang:
        return DEFAULT_LANGUAGE
    head = lang.lower().replace("_", "-").split("-")[0].split(".")[0]
    return head if head in LANGUAGES else DEFAULT_LANGUAGE


def language() -> str:
    """The language in force: set by :func:`use`, else CITYCLOUD_LANG, else zh."""
    return _current.get() or normalise(os.environ.get("CITYCLOUD_LANG"))


def use(lang: str | None) -> None:
    """Switch the language for the current context (a CLI run, a portal
    session); None goes back to the default (CITYCLOUD_LANG, else zh)."""
    _current.set(normalise(lang) if lang else None)


def t(key: str, /, lang: str | None = None, **values: object) -> str:
    """The message ``key`` in ``lang`` (or the current language), formatted."""
    texts = _catalogue.get(key)
    if texts is None:
        # A missing message must not hide the information: show the key itself.
        return key if not values else f"{key} {values}"
    text = texts[normalise(lang) if lang else language()]
    return text.format(**values) if values else text


register(
    {
        "error.spec": {
            "zh": "规格文件有 {count} 处错误：",
            "en": "The spec has {count} problem(s):",
        },
        "error.spec_unread": {
            "zh": "以下文件未能完整读取：{files}。其余文件已逐个检查字段，"
            "但需要完整规格的检查（组织树与区划 CSV、租户与组织及数据中心之间的引用、"
            "重名、网段重叠、配额）未运行；修正这些文件后再运行一次。",
            "en": "These files could not be read in full: {files}. The other files "
            "were checked field by field, but the checks that need the whole spec "
            "(the organisation tree and divisions CSVs, references between tenants, "
            "organisations and the data center, duplicates, overlapping networks, "
            "quotas) were not run; run again once these files are fixed.",
        },
        "error.spec_fields": {
            "zh": "以上是逐字段检查发现的问题。需要完整规格的检查（组织树与区划 CSV、"
            "租户与组织及数据中心之间的引用、重名、网段重叠、配额）要等这些字段修正后"
            "才会运行，届时可能还会报告其他问题。",
            "en": "These are the problems found field by field. The checks that "
            "need the whole spec (the organisation tree and divisions CSVs, "
            "references between tenants, organisations and the data center, "
            "duplicates, overlapping networks, quotas) run once these fields are "
            "fixed, and may find more.",
        },
        "error.plan": {"zh": "无法生成计划：{message}", "en": "Cannot plan: {message}"},
        "error.safety": {"zh": "已拒绝执行：{message}", "en": "Refused: {message}"},
        "error.adapter": {
            "zh": "外部系统出错（{system}）：{message}",
            "en": "Outside system failed ({system}): {message}",
        },
        "error.store": {
            "zh": "状态库出错：{message}",
            "en": "State store error: {message}",
        },
    }
)
