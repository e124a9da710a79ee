"""The pre-flight checks, one module per section of the catalog (diagnostics.CATALOG).
The runner and the order are in compiler/check.py."""
