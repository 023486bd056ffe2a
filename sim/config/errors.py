"""Errors for bad user input: one line that names the key (or file line), the value and what is allowed."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input; the CLI prints its message on one line and exits non-zero."""


class Typed(str):
    """A value as the user typed it (`n_agents=1e400`), shown so in a message: without quotes.

    Text that would not read back as typed (empty, with spaces or unprintable characters) keeps
    the quotes and escapes of `repr`, so a message stays on one line.
    """

    def __repr__(self) -> str:
        text = str(self)
        return text if text and text.isprintable() and not any(c.isspace() for c in text) else repr(text)


class ConfigError(InputError):
    """A config key holds a value outside what the model accepts."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid config: {key}={value!r}; allowed: {allowed}")

    def __reduce__(self):  # pickled by its own arguments: it crosses process boundaries (sweep workers) intact
        return (type(self), (self.key, self.value, self.allowed))


class InputFileError(InputError):
    """A user-supplied file is missing or malformed; names the file and the line at fault."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"invalid input file {where}: {problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.problem, self.line))
