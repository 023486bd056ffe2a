"""Sweeps: deterministic sweep and run directories, progress over runs, jobs of a sweep, sensitivity.

A sweep is `python -m sim -m ...`: Hydra's sweeper expands the overrides into runs and a Hydra
launcher plugin (joblib, submitit, ray) executes them; every run goes through `sim.run.runner.run`.
See docs/sweeps.md. `sim.studies.dataset(SWEEP_DIR)`: a sweep's metrics as one lazy pyarrow dataset.
"""

__all__ = ["dataset"]


def __getattr__(name: str):  # PEP 562: `from sim.studies import dataset` without importing pyarrow first
    if name == "dataset":
        from sim.studies.collect import dataset

        return dataset
    raise AttributeError(f"module 'sim.studies' has no attribute {name!r}")
