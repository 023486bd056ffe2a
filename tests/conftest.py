"""Shared fixtures; builders live in tests/support (test modules import those, never each other)."""

from __future__ import annotations

import pytest

from sim.config.params import Config


@pytest.fixture
def small_cfg() -> Config:
    cfg = Config()
    cfg.n_agents, cfg.n_groups, cfg.steps = 120, 4, 10
    cfg.output.progress = "off"
    return cfg
