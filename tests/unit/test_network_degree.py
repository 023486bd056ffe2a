"""Size-independent network parameters (issue 20 item 8): the SBM set by mean degree and in-group share.

p_in and p_out are derived from `network.mean_degree` and `network.in_group_share` where they are null;
at the default size the defaults give exactly the probabilities the model had (0.1 and 0.002); at other
sizes the expected degree (and its in-group part) stays the same; the realised degree is the target's
within the binomial noise; a small world's null k is the mean degree rounded to an even number.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.errors import ConfigError
from sim.config.params import (
    Config,
    NetworkConfig,
    check_network,
    derived_probabilities,
    network_description,
    pair_counts,
    sbm_probabilities,
    small_world_k,
    validate,
)
from sim.core.initialize import build_network
from sim.core.network import build_sbm, group_sizes

DEFAULTS = NetworkConfig()


def by_degree(n_agents: int = 1000, n_groups: int = 10, **network) -> Config:
    """A config whose SBM is set by degree (p_in and p_out null), with other network keys as given."""
    cfg = Config(n_agents=n_agents, n_groups=n_groups)
    cfg.network = dataclasses.replace(cfg.network, p_in=None, p_out=None, **network)
    return cfg


def test_the_defaults_derive_the_old_probabilities_bit_for_bit():
    p_in, p_out = derived_probabilities(1000, 10, DEFAULTS.mean_degree, DEFAULTS.in_group_share)
    assert (p_in, p_out) == (0.1, 0.002)
    assert p_in.hex() == (0.1).hex() and p_out.hex() == (0.002).hex()
    assert (DEFAULTS.p_in, DEFAULTS.p_out) == (None, None)  # set by degree: the default
    given = Config(network=dataclasses.replace(DEFAULTS, p_in=0.1, p_out=0.002))
    assert sbm_probabilities(by_degree()) == (0.1, 0.002) == sbm_probabilities(Config()) == sbm_probabilities(given)


def test_the_default_network_is_the_same_set_by_degree_or_by_probability():
    given_p = build_network(
        Config(network=dataclasses.replace(DEFAULTS, p_in=0.1, p_out=0.002)), np.random.default_rng(3)
    )
    derived = build_network(by_degree(), np.random.default_rng(3))
    assert np.array_equal(given_p[0], derived[0]) and np.array_equal(given_p[1], derived[1])
    assert len(given_p[0]) > 5000


@pytest.mark.parametrize("n", [500, 2000, 5000])
def test_the_realised_mean_degree_is_the_target_within_the_binomial_noise(n):
    cfg = by_degree(n)
    p_in, p_out = sbm_probabilities(cfg)
    within, between = pair_counts(n, 10)
    u, v = build_sbm(group_sizes(n, 10), p_in, p_out, np.random.default_rng(n))
    sd_ties = math.sqrt(within * p_in * (1 - p_in) + between * p_out * (1 - p_out))
    assert abs(2 * len(u) / n - DEFAULTS.mean_degree) < 4 * 2 * sd_ties / n
    same = (u // (n // 10)) == (v // (n // 10))  # groups of n / 10 agents, contiguous
    sd_in = math.sqrt(within * p_in * (1 - p_in))
    assert abs(2 * same.sum() / n - DEFAULTS.mean_degree * DEFAULTS.in_group_share) < 4 * 2 * sd_in / n


@pytest.mark.parametrize(("n", "groups"), [(500, 10), (1000, 10), (2000, 10), (5000, 10), (5000, 50), (240, 6)])
def test_the_local_structure_is_kept_as_the_population_grows(n, groups):
    p_in, p_out = sbm_probabilities(by_degree(n, groups))
    within, between = pair_counts(n, groups)
    in_degree, out_degree = 2 * within * p_in / n, 2 * between * p_out / n
    assert in_degree == pytest.approx(0.1 * 99, rel=1e-5)  # the default's 9.9 in-group ties
    assert out_degree == pytest.approx(0.002 * 900, rel=1e-5)  # and 1.8 outside
    # fixed probabilities give an agent more ties the larger its group
    assert (2 * within * 0.1 / n > 10) == (n // groups > 100)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(3, 10**7),
    groups=st.integers(2, 1000),
    degree=st.floats(0.01, 50),
    share=st.floats(0, 1),
)
def test_the_derived_probabilities_give_the_mean_degree_and_share(n, groups, degree, share):
    groups = min(groups, n - 1)
    degree = min(degree, n - 1)
    p_in, p_out = derived_probabilities(n, groups, degree, share)
    within, between = pair_counts(n, groups)
    assert within + between == n * (n - 1) // 2
    if within == 0:  # one agent per group: every tie between
        assert p_in == 0 and 2 * between * p_out / n == pytest.approx(degree, rel=1e-5)
        return
    assert 2 * (within * p_in + between * p_out) / n == pytest.approx(degree, rel=1e-5, abs=1e-12)
    assert 2 * within * p_in / n == pytest.approx(share * degree, rel=1e-5, abs=1e-12)


def test_with_one_group_every_tie_is_within():
    assert derived_probabilities(101, 1, 10.0, 0.3) == (0.1, 0.0)  # 10 / 100, share without effect


def test_the_summary_names_what_was_derived():
    d = network_description(by_degree(500))
    assert d["derived"] == ["p_in", "p_out"] and d["from_mean_degree"] == 11.7
    assert d["expected_mean_degree"] == pytest.approx(11.7, rel=1e-5)
    given_p = network_description(Config(n_agents=500, network=dataclasses.replace(DEFAULTS, p_in=0.1, p_out=0.002)))
    assert given_p["derived"] == [] and (given_p["p_in"], given_p["p_out"]) == (0.1, 0.002)
    assert given_p["expected_mean_degree"] == pytest.approx(2 * (10 * 1225 * 0.1 + 112500 * 0.002) / 500)
    half = by_degree(500)
    half.network.p_in = 0.2  # one given: only p_out is derived
    assert network_description(half)["derived"] == ["p_out"] and sbm_probabilities(half)[0] == 0.2


@pytest.mark.parametrize(("degree", "k"), [(10.0, 10), (11.7, 12), (9.0, 10), (7.4, 8), (2.2, 2)])
def test_a_null_small_world_k_is_the_mean_degree_rounded_to_even(degree, k):
    cfg = by_degree(200, 10, kind="small_world", k=None, mean_degree=degree)
    assert small_world_k(validate(cfg)) == k
    cfg.network.k = 4  # given: it wins
    assert small_world_k(cfg) == 4


@pytest.mark.parametrize(
    ("n", "groups", "network", "key", "text"),
    [
        (100, 10, {"mean_degree": 120.0}, "network.mean_degree", "<= n_agents - 1 (99)"),
        (100, 10, {"mean_degree": 50.0}, "network.mean_degree", "the derived network.p_in would be 4.7"),
        (100, 10, {"mean_degree": 95.0, "in_group_share": 0.0}, "network.mean_degree", "network.p_out would be 1.056"),
        (100, 10, {"kind": "small_world", "k": None, "mean_degree": 0.5}, "network.mean_degree", "here 0"),
        (100, 10, {"kind": "small_world", "k": None, "mean_degree": 99.0}, "network.mean_degree", "here 100"),
    ],
)
def test_bad_degrees_given_are_refused_in_one_line(n, groups, network, key, text):
    """Asked for on the command line (check_network with the degree given), more than the population allows."""
    cfg = by_degree(n, groups, **network)
    with pytest.raises(ConfigError) as err:
        check_network(cfg, degree_given=True)
    assert err.value.key == key and text in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("n", "groups"), [(5, 1), (12, 3), (20, 20), (3, 1)])
def test_a_small_population_runs_with_the_default_degree_capped(n, groups):
    """Not given, the default mean degree is capped where the population is too small: every pair of a kind tied."""
    cfg = validate(by_degree(n, groups))
    p_in, p_out = sbm_probabilities(cfg)
    raw = derived_probabilities(n, groups, DEFAULTS.mean_degree, DEFAULTS.in_group_share)
    assert (p_in, p_out) == (min(1.0, raw[0]), min(1.0, raw[1])) and max(p_in, p_out) <= 1.0
    d = network_description(cfg)
    assert d["capped"] == [k for k, x in zip(("p_in", "p_out"), raw, strict=True) if x > 1.0]
    assert d["expected_mean_degree"] <= n - 1 + 1e-9
    world = validate(by_degree(n, groups, kind="small_world", k=None))
    assert small_world_k(world) < n or n < 3


def test_the_degree_keys_are_not_checked_where_they_set_nothing():
    validate(Config(n_agents=5, n_groups=1, network=dataclasses.replace(DEFAULTS, p_in=0.1, p_out=0.1)))  # unused
    with pytest.raises(ConfigError, match="network.in_group_share=1.5"):
        validate(Config(network=dataclasses.replace(DEFAULTS, in_group_share=1.5)))  # its own range, always
