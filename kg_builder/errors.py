"""One error type per failure family; each carries a message, a hint and an exit code.

Exit codes (documented in the README): 0 ok, 1 data does not conform or is inconsistent,
2 usage, configuration or input error, 3 internal error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3


class KgError(Exception):
    """A failure the user can act on: ``subject: message — hint``."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, subject: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.subject}: {self.message}" if self.subject else self.message
        return f"{text} — {self.hint}" if self.hint else text


class SourceError(KgError):
    """A source cannot be read: missing, unreadable, empty, not text."""


class ParseError(KgError):
    """A source was read but is not a page the parser recognises."""


class ConfigError(KgError):
    """A setting or the reference data is wrong."""


class ValidationFailed(KgError):
    """The graph does not conform to the SHACL shapes."""

    exit_code = EXIT_INVALID


class InconsistentGraph(KgError):
    """The OWL 2 RL reasoner found a contradiction."""

    exit_code = EXIT_INVALID


class BuildLocked(KgError):
    """Another build is writing to the same output directory."""


class PublishError(KgError):
    """The store or dumps could not be written."""

    exit_code = EXIT_INTERNAL


class PushError(KgError):
    """``--push``: the external store is unreachable or refused a graph (the local release
    stays published); a configuration error: the URL, the credentials or the store.
    ``result`` is what the push did before it stopped (a ``push.PushResult``)."""

    result: object = None
