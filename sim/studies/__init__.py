"""Sweeps: deterministic sweep and run directories, progress over runs, jobs of a sweep, sensitivity.

A sweep is `python -m sim -m ...`: Hydra's sweeper expands the overrides into runs and a Hydra
launcher plugin (joblib, submitit, ray) executes them; every run goes through `sim.run.runner.run`.
See docs/sweeps.md.
"""
