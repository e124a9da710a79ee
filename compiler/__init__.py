"""mtvgen: site spec + lock file -> validated, ordered Forklift manifests.

The pipeline, one module per stage (data in, data out):

    spec.load -> inventory (sources) -> resolve -> lock -> check -> render -> validate -> emit

Only ``compiler.inventory`` may import network clients (pyvmomi, kubernetes).
"""

__version__ = "0.1.0"
