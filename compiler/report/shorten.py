"""A summary that fits a pull-request comment.

GitHub refuses a comment body over 65,536 characters, and a 10k-VM site's
summary with every plan's VM table runs to about 680,000. A summary over its
limit loses, in this order and only until it fits: the VM tables of plans the
change leaves alone, the other VM tables, warnings past the first 20, the table
rows of plans the change leaves alone, the schedule; as a last resort, lines
from the end. A note at the end says what was left out. Under the limit the text
is the whole summary, unchanged. "What this change does" goes last of all: it is
what a reviewer is there for.

In: each site's Summary, section by section. Out: Markdown text.
"""

from __future__ import annotations

import copy

GITHUB_COMMENT_LIMIT = 65_536      # characters in a GitHub comment body (GitLab allows 1,000,000)
MIN_CHARS = 1_000                  # the smallest --max-chars: room for a heading, a few lines, the note
WARNINGS_KEPT = 20


class Summary:
    """One site's summary as lists of lines, in the order printed. `details` holds each
    live plan's VM table; `touched` the plans the change does something to."""

    def __init__(self, head: list[str]):
        self.head = head
        self.security: list[str] = []      # never shortened: it comes right after the heading
        self.changes: list[str] = []
        self.warnings: list[str] = []
        self.plans: list[str] = []
        self.schedule: list[str] = []
        self.details: dict[str, list[str]] = {}
        self.touched: set[str] = set()

    def text(self, limit: int = 0) -> str:
        """The Markdown, at most `limit` characters when a limit is given (0: none); never
        less than the site's heading and the note, which a tiny limit cannot hold."""
        full = self._render()
        if not limit or len(full) <= limit:
            return full
        work, left_out = copy.copy(self), []      # the steps replace sections, never edit them
        for what, step in _STEPS:
            if step(work):
                left_out.append(what)
                out = work._render(_note(left_out, limit))
                if len(out) <= limit:
                    return out
        note = _note(left_out + ["lines from the end"], limit)
        room = limit - len("\n".join(note)) - 1         # the final newline; each line counts its own
        lines, size = [], 0
        for line in work._lines():          # the head always, then what still fits
            if len(lines) >= len(work.head) + len(work.security) and size + len(line) + 1 > room:
                break
            lines.append(line)
            size += len(line) + 1
        return "\n".join(lines + note) + "\n"

    def _lines(self) -> list[str]:
        return (self.head + self.security + self.changes + self.warnings + self.plans + self.schedule
                + [line for block in self.details.values() for line in block])

    def _render(self, note: list[str] = ()) -> str:
        return "\n".join(self._lines() + list(note)) + "\n"


def _note(left_out: list[str], limit: int) -> list[str]:
    fit = "a GitHub comment" if limit == GITHUB_COMMENT_LIMIT else "the limit"
    return ["", f"_Shortened to fit {fit} ({limit:,} characters); left out: {'; '.join(left_out)}. "
                "`mtvgen summary --max-chars 0` prints all of it._"]


def _untouched_tables(s: Summary) -> bool:
    kept = {name: block for name, block in s.details.items() if name in s.touched}
    changed, s.details = len(kept) < len(s.details), kept
    return changed


def _all_tables(s: Summary) -> bool:
    changed, s.details = bool(s.details), {}
    return changed


def _most_warnings(s: Summary) -> bool:
    items = s.warnings[2:-1]            # between the title, its blank line and the closing blank line
    if len(items) <= WARNINGS_KEPT:
        return False
    more = f"- … and {len(items) - WARNINGS_KEPT} more (`mtvgen check` lists them all)"
    s.warnings = s.warnings[:2] + items[:WARNINGS_KEPT] + [more, ""]
    return True


def _untouched_rows(s: Summary) -> bool:
    head, rows = s.plans[:4], s.plans[4:-1]     # title, blank, header, rule | rows | blank
    kept = [row for row in rows if row.split("`")[1] in s.touched]       # | `name` | ...
    if len(kept) == len(rows):
        return False
    s.plans = head + kept + [f"| … {len(rows) - len(kept)} more plans |  |  |  |  |  |  |", ""]
    return True


def _schedule(s: Summary) -> bool:
    changed, s.schedule = bool(s.schedule), []
    return changed


_STEPS = (
    ("the VM tables of plans this change leaves alone", _untouched_tables),
    ("the other VM tables", _all_tables),
    (f"warnings past the first {WARNINGS_KEPT}", _most_warnings),
    ("the rows of plans this change leaves alone", _untouched_rows),
    ("the schedule", _schedule),
)


def join(summaries: list[Summary], limit: int = 0) -> str:
    """The sites' summaries one after another, within `limit` characters in all: a site
    that fits its share keeps all of it, and what it leaves goes to the larger ones."""
    texts = [s.text() for s in summaries]
    if not limit or len("\n".join(texts)) <= limit:
        return "\n".join(texts)
    budget = limit - (len(texts) - 1)          # the newlines between sites
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for k, i in enumerate(order):
        share = budget // (len(order) - k)
        if len(texts[i]) > share:
            texts[i] = summaries[i].text(share)
        budget -= len(texts[i])
    return "\n".join(texts)
