"""The three test tiers and the rules that give every collected test exactly one of them.

The rules' data (which fixtures and modules are integration) lives in tests/conftest.py, next to the
fixtures it names; this module applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

TIERS = ("unit", "integration", "e2e")


@dataclass(frozen=True)
class TierRules:
    e2e_folder: Path  # every test under it is e2e
    integration_fixtures: frozenset[str]  # a test using one of these, even through other fixtures
    integration_modules: frozenset[str]  # `test_file.py` or `test_file.py::test_function`

    def tier_of(self, item: pytest.Item) -> str:
        """An explicit mark wins; then e2e by folder; integration by module or fixture; unit otherwise."""
        explicit = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(explicit) > 1:
            raise pytest.UsageError(f"{item.nodeid} is marked {' and '.join(explicit)}: a test has one tier")
        if explicit:
            return explicit[0]
        if item.path.is_relative_to(self.e2e_folder):
            return "e2e"
        function = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        if item.path.name in self.integration_modules or function in self.integration_modules:
            return "integration"
        # `fixturenames` is the closure: the fixtures a test asks for and every fixture those ask for
        if self.integration_fixtures.intersection(getattr(item, "fixturenames", ())):
            return "integration"
        return "unit"

    def mark(self, items: Iterable[pytest.Item]) -> None:
        for item in items:
            tier = self.tier_of(item)
            if item.get_closest_marker(tier) is None:
                item.add_marker(tier)
