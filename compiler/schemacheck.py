"""JSON Schema checks with jsonschema's words at jsonschema-rs's speed.

The Rust validator only answers "valid?" (a 10k-VM site's Plans: 0.004 s
instead of 0.33 s); a value it rejects is walked by jsonschema for the errors,
so every message stays jsonschema's. Where the two could differ (a regex `$`
before a final newline), Rust is the stricter, which costs only the slow walk.
jsonschema itself is imported on the first rejected value: a build that passes
never loads it. tests/test_validate.py holds the two to agreement.
"""

from __future__ import annotations

from functools import cached_property

import jsonschema_rs

_FAST = {"2020-12": jsonschema_rs.Draft202012Validator, "7": jsonschema_rs.Draft7Validator}


class Schema:
    def __init__(self, schema: dict, draft: str, formats: bool):
        self.schema, self.draft, self.formats = schema, draft, formats
        try:
            self.fast = _FAST[draft](schema, validate_formats=formats)
        except (ValueError, jsonschema_rs.ValidationError):   # a pattern Rust cannot compile: stay exact
            self.fast = None

    @cached_property
    def python(self):
        import jsonschema     # about 40 ms of imports, needed only to word errors

        if self.draft == "7":
            return jsonschema.Draft7Validator(self.schema)
        checker = jsonschema.FormatChecker() if self.formats else None
        return jsonschema.Draft202012Validator(self.schema, format_checker=checker)

    def iter_errors(self, value):
        if self.fast is not None and self.fast.is_valid(value):
            return iter(())
        return self.python.iter_errors(value)
