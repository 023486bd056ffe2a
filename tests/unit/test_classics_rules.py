"""The classic rules on hand-made states and hand-chosen draws, against values worked out by hand.

Both implementations; plus the presets' configs, networks and input checks.
"""

import numpy as np
import pytest

from sim.classics import deffuant, hegselmann_krause, holme_newman, jager_amblard, kozma_barrat
from sim.classics.common import ClassicDraws, pick
from sim.config.errors import ConfigError, InputError
from sim.metrics.regime import regime_label, regime_summary
from sim.model import ResocializationModel
from sim.studies.classics import preset_config
from tests.support.states import make_state

BOTH = ("step_reference", "step_compiled")


def _draws(*columns):
    """Uniforms for hand-picked updates: each column (u0, u1, ...) is one elementary update."""
    return ClassicDraws(np.array(columns, dtype=float).T.copy())


def _complete(n):
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


@pytest.mark.parametrize("impl", BOTH)
def test_deffuant_strict_threshold_and_both_move(impl):
    cfg = preset_config("deffuant")
    cfg.preset.mu = 0.5
    # agent 0 meets agent 1 (u0 = 0 -> agent 0; u1 = 0 -> the first other agent)
    for d, expected in ((0.25, [0.25, 0.5]), (0.2500001, [0.375, 0.375])):
        st = make_state([0.25, 0.5], _complete(2))
        cfg.preset.d = d
        getattr(deffuant, impl)(st, cfg, _draws((0.0, 0.0)))
        assert st.stance.tolist() == expected  # |0.25 - 0.5| = 0.25 is not < 0.25: strict


@pytest.mark.parametrize("impl", BOTH)
def test_deffuant_on_a_network_meets_only_neighbours(impl):
    cfg = preset_config("deffuant")
    cfg.network.kind, cfg.preset.d, cfg.preset.mu = "sbm", 1.0, 0.5
    st = make_state([0.0, 0.5, 0.8], [(0, 2)])  # 0-2 tied, 1 isolated
    getattr(deffuant, impl)(st, cfg, _draws((0.0, 0.9), (0.5, 0.0)))  # agent 0 -> its only tie (2); agent 1: none
    assert st.stance.tolist() == [0.4, 0.5, 0.4]
    assert st.t == 1


@pytest.mark.parametrize("impl", BOTH)
def test_hk_is_synchronous_inclusive_and_self_included(impl):
    cfg = preset_config("hegselmann_krause")
    cfg.preset.epsilon = 0.25
    st = make_state([0.0, 0.25, 0.5, 1.0], _complete(4))
    getattr(hegselmann_krause, impl)(st, cfg, _draws())
    # |x_j - x_i| <= 0.25, from the old opinions: 0 sees {0, .25}; .25 sees {0, .25, .5}; ...
    assert st.stance.tolist() == [0.125, 0.25, 0.375, 1.0]


@pytest.mark.parametrize("impl", BOTH)
def test_ja_assimilation_contrast_noncommitment_and_clip(impl):
    cfg = preset_config("jager_amblard")
    cfg.preset.U, cfg.preset.T, cfg.preset.mu = 0.5, 1.0, 0.5
    # attitudes -0.75, -0.5, 0.25, 1.0 (stances 0.125, 0.25, 0.625, 1.0)
    st = make_state([0.125, 0.25, 0.625, 1.0], _complete(4))
    getattr(jager_amblard, impl)(
        st,
        cfg,
        _draws(
            (0.0, 0.0),  # agent 0 <- agent 1: gap 0.25 < U: assimilate to -0.625
            (0.25, 0.5),  # agent 1 <- agent 2 (others of 1: 0, 2, 3): gap 0.75: no change
            (0.5, 0.99),  # agent 2 <- agent 3: gap 0.75: no change
            (0.75, 0.0),  # agent 3 <- agent 0 (now -0.625): gap 1.625 > T: contrast, 1 + 0.8125, clipped to 1
            (0.0, 0.99),  # agent 0 <- agent 3: gap 1.625 > T: contrast: -0.625 - 0.8125 -> clipped to -1
        ),
    )
    attitude = 2 * st.stance - 1
    assert attitude.tolist() == [-1.0, -0.5, 0.25, 1.0]


@pytest.mark.parametrize("impl", BOTH)
def test_ja_two_way_moves_both_agents_of_a_meeting(impl):
    cfg = preset_config("jager_amblard")
    cfg.preset.U, cfg.preset.T, cfg.preset.mu, cfg.preset.two_way = 0.5, 1.0, 0.5, True
    st = make_state([0.125, 0.25, 0.625, 1.0], _complete(4))  # attitudes -0.75, -0.5, 0.25, 1.0
    getattr(jager_amblard, impl)(
        st,
        cfg,
        _draws(
            (0.0, 0.0),  # 0 meets 1: gap 0.25 < U: both assimilate, to -0.625 each
            (0.25, 0.5),  # 1 (-0.625) meets 2 (0.25): gap 0.875: no change
            (0.5, 0.99),  # 2 meets 3: gap 0.75: no change
            (0.75, 0.0),  # 3 meets 0 (-0.625): gap 1.625 > T: contrast, 3 to 1.8125 and 0 to -1.4375, both clipped
            (0.0, 0.99),  # 0 (-1) meets 3 (1): gap 2 > T: contrast, both stay clipped at -1 and 1
        ),
    )
    attitude = 2 * st.stance - 1
    assert attitude.tolist() == [-1.0, -0.625, 0.25, 1.0]  # one way, agent 1 would keep -0.5


@pytest.mark.parametrize("impl", BOTH)
def test_kb_rewires_a_disagreeing_tie_or_interacts(impl):
    cfg = preset_config("kozma_barrat")
    cfg.preset.d, cfg.preset.mu, cfg.preset.w = 0.3, 0.5, 0.5
    st = make_state([0.0, 0.9, 0.1, 0.2], [(0, 1), (0, 2)])
    report = getattr(kozma_barrat, impl)(
        st,
        cfg,
        _draws(
            (0.0, 0.0, 0.1, 0.99),  # agent 0, tie 0 (to 1), rewire (0.1 < w): |0 - 0.9| > d -> to agent 3
            (0.0, 0.99, 0.9, 0.0),  # agent 0, its second tie is now 3 (appended after 2): interact, |0 - 0.2| < d
        ),
    )
    u, v, _, _ = st.ties.edges()
    assert sorted(zip(u.tolist(), v.tolist(), strict=True)) == [(0, 2), (0, 3)]
    assert st.stance.tolist() == [0.1, 0.9, 0.1, 0.1]
    src, dst, kind = report.event_table()
    assert [(int(a), int(b)) for a, b in zip(src, dst, strict=True)] == [(0, 1), (0, 3)]  # cut, then rewired


@pytest.mark.parametrize("impl", BOTH)
def test_hn_copies_a_neighbour_or_rewires_to_its_own_opinion(impl):
    cfg = preset_config("holme_newman")
    cfg.preset.gamma, cfg.preset.phi = 2.0, 0.5  # 4 agents, G = 2 opinions: stance 0 or 1
    st = make_state([0.0, 1.0, 0.0, 1.0], [(0, 1), (2, 3)])
    report = getattr(holme_newman, impl)(
        st,
        cfg,
        _draws(
            (0.0, 0.1, 0.0, 0.99),  # agent 0 rewires its tie to 1 (0.1 < phi) to the 2nd agent of opinion 0: 2
            (0.5, 0.9, 0.0, 0.0),  # agent 2 copies (0.9 >= phi) its first tie, 3: opinion 1
        ),
    )
    assert st.stance.tolist() == [0.0, 1.0, 1.0, 1.0]
    u, v, _, _ = st.ties.edges()
    assert list(zip(u.tolist(), v.tolist(), strict=True)) == [(0, 2), (2, 3)]
    src, dst, _ = report.event_table()
    assert list(zip(src.tolist(), dst.tolist(), strict=True)) == [(0, 1), (0, 2)]  # cut 0-1, rewired 0-2
    assert report.n_accepted.tolist() == [0, 0, 1, 0]


def test_hn_opinion_encoding_round_trips():
    g = np.arange(320)
    x = holme_newman.encode(g, 320)
    assert x[0] == 0.0 and x[-1] == 1.0
    assert np.array_equal(holme_newman.decode(x, 320), g)


def test_pick_stays_in_range():
    assert pick(np.nextafter(1.0, 0.0), 7) == 6 and pick(0.0, 7) == 0


def test_regime_rule():
    assert [regime_label(k) for k in range(5)] == [
        "fragmentation",
        "consensus",
        "polarization",
        "fragmentation",
        "fragmentation",
    ]
    cfg = preset_config("deffuant")
    x = np.r_[np.full(50, 0.2), np.full(48, 0.8), [0.5, 0.5]]
    assert regime_summary(x, cfg.metrics) == {"regime": "polarization", "n_major_clusters": 2, "n_minor_clusters": 1}


# --------------------------------------------------------------------------- configs


@pytest.mark.parametrize("name", ["deffuant", "hegselmann_krause", "jager_amblard", "kozma_barrat", "holme_newman"])
def test_presets_switch_the_seed_specific_mechanisms_off(name):
    cfg = preset_config(name)
    assert cfg.preset.name == name and cfg.n_groups == 1
    assert not (cfg.messages.peer or cfg.messages.broadcast or cfg.messages.forum)
    assert not (cfg.attention.enabled or cfg.influence.enabled or cfg.identity.enabled)
    assert not (cfg.ties.muting or cfg.ties.exclusion or cfg.ties.formation or cfg.ties.rewiring)
    assert (cfg.stance.initial_mean, cfg.stance.initial_concentration) == (0.5, 2.0)  # Beta(1, 1)
    model = ResocializationModel(preset_config(name, "n_agents=50"))
    st = model.state
    assert not st.withdrawn.any() and (st.engagement == 1).all()


def test_er_presets_build_an_erdos_renyi_graph_of_mean_degree_k():
    for name, k in (("kozma_barrat", 5), ("holme_newman", 4)):
        degrees = [
            ResocializationModel(preset_config(name, "n_agents=2000", f"seed={s}", "mesa_agents=never"))
            .state.ties.degree()
            .mean()
            for s in range(10)
        ]
        assert abs(np.mean(degrees) - k) < 0.15, (name, degrees)  # the mean of 10 has sd 0.02


def test_complete_graph_presets_and_uniform_opinions():
    model = ResocializationModel(preset_config("deffuant", "n_agents=400"))
    assert (model.state.ties.degree() == 399).all()
    x = model.state.stance
    assert abs(x.mean() - 0.5) < 0.05 and abs(x.std() - (1 / 12) ** 0.5) < 0.02
    hn = ResocializationModel(preset_config("holme_newman", "n_agents=400"))
    G = holme_newman.n_opinions(hn.cfg, 400)
    assert G == 40 and np.all(np.isin(holme_newman.decode(hn.state.stance, G), np.arange(G)))


def test_bad_preset_input_names_the_key():
    from sim.config.preflight import preflight

    with pytest.raises(InputError, match=r"preset.T=0.3; allowed: >= preset.U \(0.4\)"):
        preflight(["preset=jager_amblard", "preset.U=0.4", "preset.T=0.3"])
    with pytest.raises(InputError, match="preset"):
        preflight(["preset=voter"])
    with pytest.raises(InputError, match=r"preset.d=1.5"):
        preflight(["preset=deffuant", "preset.d=1.5"])
    with pytest.raises(ConfigError, match="preset.gamma"):
        ResocializationModel(preset_config("holme_newman", "n_agents=10", "preset.gamma=8"))
    with pytest.raises(ConfigError, match="preset.k"):
        ResocializationModel(preset_config("kozma_barrat", "n_agents=4", "preset.k=5"))
