"""Typed, validated configuration: the parameter schema, config composition, input checks and errors."""

from pathlib import Path

#: the config directory Hydra composes from (conf/ beside the package); here, importing nothing heavy
CONF_DIR = Path(__file__).resolve().parent.parent.parent / "conf"
