"""The submodels of the ODD, one module each, in schedule order.

Each is a pure, vectorized function of (state arrays, parameters, draws); `sim.schedule` calls them
in the brief's order and `sim.reference` restates the same rules one agent at a time.
"""
