"""Typed, validated configuration: the parameter schema, config composition, input checks and errors."""
