"""The step writes the new stance, engagement and load into the arrays of two steps ago, if no one holds them."""

from __future__ import annotations

import numpy as np

from sim.model import ResocializationModel

FIELDS = ("stance", "engagement", "load")


def _model() -> ResocializationModel:
    model = ResocializationModel(n_agents=300, n_groups=5, steps=12, seed=7, collect=False)
    assert model.cfg.implementation == "compiled"
    return model


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_the_arrays_of_two_steps_ago_are_written_again():
    model = _model()
    seen = []
    for _ in range(6):
        model.step()
        seen.append({f: _address(getattr(model.state, f)) for f in FIELDS})
    for f in FIELDS:
        assert seen[2][f] == seen[4][f] == seen[0][f]
        assert seen[3][f] == seen[5][f] != seen[4][f]


def test_arrays_someone_holds_keep_their_values_and_results_do_not_change():
    plain, holding = _model(), _model()
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(10):
        plain.step()
        holding.step()
        arrays = [getattr(holding.state, f) for f in FIELDS]
        kept.append((arrays, [a.copy() for a in arrays]))
        for f in FIELDS:
            np.testing.assert_array_equal(getattr(plain.state, f), getattr(holding.state, f))
    for arrays, values in kept:  # no step wrote into an array this caller still holds
        for a, v in zip(arrays, values, strict=True):
            np.testing.assert_array_equal(a, v)
    addresses = {_address(a) for arrays, _ in kept for a in arrays}
    assert len(addresses) == 3 * len(kept)  # every held array was its own
