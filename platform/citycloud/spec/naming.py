"""Identifiers for names people write in Chinese.

Every outside system wants ASCII, DNS-safe names (OpenStack projects, Kubernetes
namespaces, Keycloak client ids), while the city names things in Chinese. An
identifier here is derived from the name alone, never from its position or
neighbours, so adding a tenant can never rename another one:

* the readable part is the pinyin of the name (``红山区`` -> ``hongshanqu``);
* a name that is not already a valid identifier gets a short hash of the exact
  name appended, so two names that read alike (同音字) still differ;
* organisations carry their statistical code instead, which is unique by law.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from pypinyin import lazy_pinyin

DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
MAX_LABEL = 63
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def short_hash(text: str, length: int = 6) -> str:
    """A stable hex digest of ``text`` (not a secret; only for uniqueness)."""
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()[:length]


@lru_cache(maxsize=65536)
def transliterate(text: str) -> str:
    """Lowercase ASCII words for ``text``: pinyin for Chinese, the rest folded.

    Runs of Chinese characters become one word (``一张图`` -> ``yizhangtu``);
    other characters are NFKD-folded to ASCII and anything else separates words.
    """
    parts: list[str] = []
    pos = 0
    for match in _CJK.finditer(text):
        parts.append(text[pos : match.start()])
        parts.append(" " + "".join(lazy_pinyin(match.group())) + " ")
        pos = match.end()
    parts.append(text[pos:])
    folded = unicodedata.normalize("NFKD", "".join(parts))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return _NOT_SLUG.sub("-", ascii_text).strip("-")


def is_slug(text: str, max_len: int = MAX_LABEL) -> bool:
    return len(text) <= max_len and DNS_LABEL.match(text) is not None


def _fit(base: str, suffix: str, max_len: int) -> str:
    room = max_len - len(suffix) - 1
    base = base[:room].strip("-")
    if not base or not base[0].isalpha():
        base = ("n" + base)[:room].strip("-")
    return f"{base}-{suffix}"


def slug_for(name: str, max_len: int = 40) -> str | None:
    """A stable DNS label for a free-form name, or None if it has no letters.

    Names that already are valid labels are kept as they are; the others get
    their transliteration plus a short hash of the exact original name.
    """
    if is_slug(name, max_len):
        return name
    base = transliterate(name)
    if not re.search(r"[a-z0-9]", base):
        return None
    return _fit(base, short_hash(name), max_len)


def org_slug(name: str, code: str, max_len: int = MAX_LABEL) -> str:
    """``红山区`` with code ``150402`` -> ``hongshanqu-150402``."""
    return _fit(transliterate(name) or "org", code, max_len)


def fit_label(text: str, max_len: int = MAX_LABEL) -> str:
    """Shorten an already-safe label to ``max_len``, keeping it unique.

    Truncation alone would let two long names collide, so a cut label ends in
    a hash of the full one.
    """
    if len(text) <= max_len:
        return text
    return _fit(text, short_hash(text, 8), max_len)


def bad_path_chars(name: str) -> str | None:
    """Characters that would make a name ambiguous in a group path, if any."""
    bad = sorted({ch for ch in name if ch == "/" or unicodedata.category(ch)[0] == "C"})
    return "".join(bad) or None
