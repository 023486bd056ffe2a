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


@pytest.fixture
def advise():
    """Set numpy's advice for the test (`advise(True)`); it is set back as it was afterwards."""
    setter = pages._setter()
    if setter is None:
        pytest.skip("this numpy has no huge-page switch")
    before = setter(True)
    setter(before)
    yield setter
    setter(before)


@pytest.mark.parametrize("start", [True, False])
def test_blocks_switch_the_advice_and_restore_it(advise, start):
    advise(start)
    with pages.ordinary_pages():
        assert _advice() is False
        with pages.huge_pages():
            assert _advice() is True
        assert _advice() is False
    assert _advice() is start


def test_restored_after_an_error(advise):
    advise(True)
    with pytest.raises(RuntimeError), pages.ordinary_pages():
        raise RuntimeError("boom")
    assert _advice() is True


def test_a_model_leaves_the_advice_as_it_found_it(advise):
    from sim.model import ResocializationModel

    advise(True)
    model = ResocializationModel(n_agents=60, n_groups=3, steps=2, seed=1, collect=False)
    assert _advice() is True
    model.step()
    assert _advice() is True
