"""Helpers shared by the tests (builders, baselines); test modules import these, never each other."""
