"""Credentials out of anything we write down: cassettes, logs, warnings.

A base URL may carry ``user:key@`` or a key as a query parameter (``?api-key=...``, Azure style); model
text echoed into a warning may quote a key. :func:`scrub_url` and :func:`scrub_text` mask them.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
KEY_PARAM = re.compile(r"(api[-_]?key|key|token|access[-_]?token|secret|password|sig|signature|auth)$", re.I)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)
_QUERY_KEY = re.compile(
    r"(?P<name>[?&](?:api[-_]?key|key|token|access[-_]?token|secret|password|sig|signature|auth))=[^&\s#\"']*",
    re.I,
)
_KEY_LIKE = re.compile(
    r"\b(?:sk-[A-Za-z0-9_-]{16,}|(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{12,}|hf_[A-Za-z0-9]{20,}"
    r"|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,})"
)


def scrub_url(url: str) -> str:
    """``url`` without user-info and with key-like query parameters masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url)
    netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if KEY_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub_text(text: str) -> str:
    """``text`` with URL user-info, key-like query parameters and key-looking tokens masked."""
    text = _URL_USERINFO.sub(lambda m: m.group("scheme"), text)
    text = _QUERY_KEY.sub(lambda m: f"{m.group('name')}={MASK}", text)
    return _KEY_LIKE.sub(MASK, text)
