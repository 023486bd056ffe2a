"""The effect ledger's observation window: effects are counted from the step the window opens."""

import numpy as np
import pandas as pd

from sim.config.params import Config
from sim.core.state import LEDGER
from sim.metrics.population import ledger_effects
from sim.run.runner import run


def test_effects_count_since_the_base():
    ledger = {k: np.array([3, 3, 0, 1]) for k in LEDGER}
    ledger["identity_gains"] = np.array([5, 2, 0, 1])
    base = {k: np.array([3, 3, 0, 0]) for k in LEDGER}
    base["identity_gains"] = np.array([1, 2, 0, 0])
    pos, neg = ledger_effects(ledger)
    assert pos.tolist() == [True, True, False, True] and neg.tolist() == [True, True, False, True]
    pos, neg = ledger_effects(ledger, base)  # agent 0 only gained since, agent 1 did nothing since
    assert pos.tolist() == [True, False, False, True] and neg.tolist() == [False, False, False, True]


def test_window_shares_match_the_counters_of_the_window(tmp_path):
    cfg = Config()
    cfg.n_agents, cfg.n_groups, cfg.steps, cfg.seed = 300, 3, 30, 4
    cfg.exposure.kind, cfg.exposure.start, cfg.exposure.length = "shock", 15, 10
    cfg.metrics.ledger_window, cfg.metrics.by_group = 10, False
    cfg.output.snapshot_every, cfg.output.figure, cfg.output.progress = 10, False, "off"
    run(cfg, tmp_path)
    m = pd.read_parquet(tmp_path / "metrics.parquet")
    mixed = m[(m.scope == "all") & (m.metric == "ledger_mixed")].set_index("step")["value"]
    assert mixed.loc[:19].isna().all() and mixed.loc[20:].notna().all()
    agents = pd.read_parquet(tmp_path / "agents.parquet").set_index(["step", "agent_id"]).sort_index()
    start, end = agents.loc[20], agents.loc[30]
    pos, neg = ledger_effects(
        {k: end[f"ledger_{k}"].to_numpy() for k in LEDGER}, {k: start[f"ledger_{k}"].to_numpy() for k in LEDGER}
    )
    assert mixed.loc[30] == (pos & neg).mean()
    whole = ledger_effects({k: end[f"ledger_{k}"].to_numpy() for k in LEDGER})
    assert (whole[0] & whole[1]).mean() > (pos & neg).mean()  # the whole run holds more mixed cases
    shares = m[(m.scope == "all") & (m.step == 30) & m.metric.str.startswith("ledger_")]["value"]
    assert abs(shares.sum() - 1.0) < 1e-12


def test_a_window_is_refused_where_the_counters_would_saturate():
    import pytest

    from sim.config.errors import ConfigError
    from sim.config.params import validate

    cfg = Config()
    cfg.steps, cfg.metrics.ledger_window = 70_000, 100
    with pytest.raises(ConfigError, match="metrics.ledger_window"):
        validate(cfg)
    cfg.metrics.ledger_window = 0
    validate(cfg)
