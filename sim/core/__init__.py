"""The core: state arrays, the slotted tie store, networks, initialization, draws, group norms, the step report."""
