"""The project's input errors cross process boundaries intact (sweep workers report them to the parent)."""

from __future__ import annotations

import pickle

import pytest

from sim.config.errors import ConfigError, InputError, InputFileError

ERRORS = [
    InputError("n_agents=0; allowed: >= 1"),
    ConfigError("influence.rate", 2.5, "a number in [0, 1]"),
    InputFileError("net.csv", "missing column(s) source", line=3),
    InputFileError("net.csv", "empty file"),
]


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_with_their_message_and_fields(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)
    assert vars(back) == vars(err)


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_cross_cloudpickle_whole(err):
    """cloudpickle: how submitit and Ray send a job's function and its result between processes."""
    cloudpickle = pytest.importorskip("cloudpickle")
    back = pickle.loads(cloudpickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and len(str(back).splitlines()) == 1
    assert vars(back) == vars(err)


def _raise_config_error(value):
    raise ConfigError("steps", value, "an integer >= 1")


def test_an_error_raised_in_a_joblib_worker_reaches_the_parent_whole():
    joblib = pytest.importorskip("joblib")
    with pytest.raises(ConfigError) as info:
        joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(_raise_config_error)(v) for v in (-1, -2))
    assert str(info.value).startswith("invalid config: steps=-") and info.value.allowed == "an integer >= 1"
