"""http(s) URLs as the spec and the vSphere source accept them."""

from __future__ import annotations

from urllib.parse import ParseResult, urlparse


def http_url(url: str) -> tuple[ParseResult, int | None] | None:
    """(parsed URL, its port or None) for an http(s) URL with a host; None for anything
    else. urlparse raises ValueError on some malformed URLs (`https://[x/sdk`) and on
    reading a port that is not a number in range (`:99999`): both are a "no" here."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        return None
    return parsed, port


def redacted(url: str) -> str:
    """`url` with any user-info (user:password@) replaced, for messages: a URL refused
    because it carries a password must not be echoed with it."""
    head, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{head}{sep}{authority}{slash}{path}"


def has_userinfo(url: str) -> bool:
    head, sep, rest = url.partition("://")
    return bool(sep) and "@" in rest.partition("/")[0]
