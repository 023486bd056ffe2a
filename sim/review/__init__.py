"""The virtual review: virtual studies observe simulated professionals, as the review's studies did.

The review reports shares of its 51 studies; the model is compared with them the way they were made
(the virtual-ecologist approach, Zurell et al. 2010, Oikos 119:622): `python -m sim.review DIR`
(docs/review.md). From Python::

    effects = load_effects(DIR)                  # or effects_from_model(cfg), in memory
    summary = summarize(effects, Observation(), np.random.default_rng(0), corpora=200)
    summary["classes"]["mixed"]["share"]         # and ["lo"], ["hi"]: the 90% Monte Carlo interval
"""

from sim.review.corpus import draw_corpora, draw_corpus, professional_shares, summarize, summarize_corpora
from sim.review.data import effects_from_model, effects_from_snapshots, load_effects, needed_steps, period_bounds
from sim.review.observation import Observation, from_overrides, parameter_rows

__all__ = [
    "Observation",
    "draw_corpora",
    "draw_corpus",
    "effects_from_model",
    "effects_from_snapshots",
    "from_overrides",
    "load_effects",
    "needed_steps",
    "parameter_rows",
    "period_bounds",
    "professional_shares",
    "summarize",
    "summarize_corpora",
]
