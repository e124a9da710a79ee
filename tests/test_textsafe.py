"""Every escape and redaction, with literal expectations (compiler/textsafe.py, urls.py)."""

from __future__ import annotations

import pytest

from compiler.textsafe import markdown, printable
from compiler.urls import has_userinfo, redacted


@pytest.mark.parametrize("text,shown", [
    ("plain-name_01", "plain-name_01"),
    ("a\x1b[31mred", "a\\x1b[31mred"),            # a terminal escape sequence, made visible
    ("del\x7f", "del\\x7f"),
    ("c1\x9b", "c1\\x9b"),
    ("nel\x85", "nel\\x85"),
    ("ls\u2028ps\u2029", "ls\\u2028ps\\u2029"),
    ("lone\ud800", "lone\\ud800"),
    ("tab\tnewline\n", "tab\\x09newline\\x0a"),
    ("ünïcode 日本", "ünïcode 日本"),
])
def test_printable(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize("text,shown", [
    ("db-09", "db-09"),
    ("<!-- hide", "&lt;\\!-- hide"),
    ("[x](http://evil)", "\\[x\\](http://evil)"),
    ("a | b", "a \\| b"),
    ("# heading", "\\# heading"),
    ("*bold* `code` ~s~", "\\*bold\\* \\`code\\` \\~s\\~"),
    ("a & b > c", "a &amp; b &gt; c"),
    ("back\\slash", "back\\\\slash"),
    ("x\ny", "x\\\\x0ay"),                          # the newline's escape, its backslash escaped too
    ("guest_64Guest", "guest_64Guest"),              # `_` is left alone: GFM reads it only around words
])
def test_markdown(text, shown):
    assert markdown(text) == shown


@pytest.mark.parametrize("url,shown,secret", [
    ("https://vc.example.com/sdk", "https://vc.example.com/sdk", False),
    ("https://admin:pw@vc.example.com/sdk", "https://***@vc.example.com/sdk", True),
    ("https://admin@vc.example.com", "https://***@vc.example.com", True),
    ("https://a:b@c@vc.example.com/x@y", "https://***@vc.example.com/x@y", True),   # the path's @ stays
    ("nfs.example.com:/exports", "nfs.example.com:/exports", False),
])
def test_url_user_info_is_found_and_redacted(url, shown, secret):
    assert (redacted(url), has_userinfo(url)) == (shown, secret)
