"""The Mesa model and its agents: `ResocializationModel` runs the step (or a classic preset's rule)."""

from sim.model import mesa_import  # noqa: F401  (first: Mesa imported without its logging's stack walks)
from sim.model.agents import Professional
from sim.model.model import ResocializationModel

__all__ = ["Professional", "ResocializationModel"]
