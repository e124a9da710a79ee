"""The subcommands beyond build and check, grouped by what they touch (see compiler/cli.py)."""
