"""Text from inventories and specs, made safe to show: in a terminal (no control
sequences), in Markdown and HTML (no markup a name could inject into a review).

A VM is named by whoever can create one in vCenter; its name reaches the PR summary
a reviewer trusts and the terminal of whoever runs `mtvgen status`. In: any str.
Out: the same text, every control character written as an escape, and (markdown)
every character Markdown or HTML would read as markup escaped.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, NEL, the line and paragraph separators, lone surrogates
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# what Markdown (GitHub's and GitLab's) or the HTML inside it would read as markup; not
# `_`, which GFM reads as emphasis only around a word (guest ids are full of it)
_MARKUP = re.compile(r"([\\`*\[\]<>|#!~&])")
_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def printable(text: str) -> str:
    """Control characters as visible escapes: `\\x1b`, `\\u2028`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def markdown(text: str) -> str:
    """Text for a Markdown line or table cell: printable, with markup escaped (`<`, `>`
    and `&` as HTML entities, so `<!--` cannot hide the rest of a review)."""
    return _MARKUP.sub(lambda m: _ENTITY.get(m.group(), "\\" + m.group()), printable(text))
