"""With NUMBA_DISABLE_JIT=1 (numba's switch for debugging and coverage) the model runs as plain Python, same state."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_RUN = """
import json, sys
import numpy as np
from sim.model import ResocializationModel
m = ResocializationModel(n_agents=60, n_groups=3, steps=3, seed=4, collect=False)
for _ in range(3):
    m.step()
s = m.state
print(json.dumps({"stance": s.stance.tolist(), "engagement": np.asarray(s.engagement, float).tolist(),
                  "edges": [a.tolist() for a in s.ties.edges()]}))
"""


def _state(disable_jit: bool) -> dict:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1" if disable_jit else "0"}
    out = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_model_runs_without_numba_and_gives_the_same_state():
    """Every compiled function falls back to its Python function (`sim.core.kernels.jit`, the prefetch hint)."""
    assert _state(True) == _state(False)
