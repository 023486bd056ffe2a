"""sim.core.pages: which new arrays ask for huge pages, switched for a block and restored after it."""

from __future__ import annotations

import pytest

from sim.core import pages


def _advice() -> bool:
    """The current huge-page advice of numpy for new large arrays (read by setting it back at once)."""
    setter = pages._setter()
    was = setter(True)
    setter(was)
    return bool(was)


@pytest.fixture(autouse=True)
def _needs_switch():
    if pages._setter() is None:
        pytest.skip("this numpy has no huge-page switch")


@pytest.mark.parametrize("start", [True, False])
def test_blocks_switch_the_advice_and_restore_it(start):
    setter = pages._setter()
    before = setter(start)
    try:
        with pages.ordinary_pages():
            assert _advice() is False
            with pages.huge_pages():
                assert _advice() is True
            assert _advice() is False
        assert _advice() is start
    finally:
        setter(before)


def test_restored_after_an_error():
    setter = pages._setter()
    before = setter(True)
    try:
        with pytest.raises(RuntimeError), pages.ordinary_pages():
            raise RuntimeError("boom")
        assert _advice() is True
    finally:
        setter(before)


def test_a_model_leaves_the_advice_as_it_found_it():
    from sim.model import ResocializationModel

    setter = pages._setter()
    before = setter(True)
    try:
        model = ResocializationModel(n_agents=60, n_groups=3, steps=2, seed=1, collect=False)
        assert _advice() is True
        model.step()
        assert _advice() is True
    finally:
        setter(before)
