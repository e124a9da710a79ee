"""Inventory sources: the only package that talks to networks.

Every source (an inventory snapshot file, vCenter through pyvmomi, the Forklift
inventory service, the target cluster) produces the same `Inventory` model, so
resolution, locking, checks and rendering never care where the data came from.
"""

from .model import Datastore, Disk, Host, Inventory, Network, Nic, ProviderInfo, TargetFacts, VM  # noqa: F401
