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
