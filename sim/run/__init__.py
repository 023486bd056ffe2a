"""One run to its outputs: runner, metrics recorder, output tables, atomic io, completion markers, figure."""
