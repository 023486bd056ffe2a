"""Professional resocialization simulator: a Mesa agent-based model (see README.md and docs/ODD.md)."""
