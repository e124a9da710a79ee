"""Kubernetes quantities as resource.Quantity reads them (k8s.io/apimachinery
pkg/api/resource: binary and decimal SI suffixes, milli), without the kubernetes client."""

from decimal import Decimal

import pytest

from compiler import quantity


@pytest.mark.parametrize("text, value", [("30Gi", 30 * 2**30), ("2Ti", 2 * 2**40), ("1.5T", 1_500_000_000_000),
                                         ("100", 100), ("500m", Decimal("0.5")), ("10k", 10_000), ("1Ei", 2**60)])
def test_quantities(text, value):
    assert quantity.parse(text) == value


@pytest.mark.parametrize("text", ["", "Gi", "10GB", "ten", "1.2.3Gi"])
def test_what_is_not_a_quantity(text):
    with pytest.raises(ValueError):
        quantity.parse(text)
    assert quantity.as_int(text) == 0
