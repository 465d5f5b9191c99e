"""One root error. Every message says what went wrong and what to do next."""

from __future__ import annotations


class ShikumiError(Exception):
    """Root of all errors the user can act on.

    ``hint`` says what to do next; it is shown under the message in the CLI and the app.
    """

    def __init__(self, message: str, hint: str = "", *, cause: BaseException | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.message}\n→ {self.hint}" if self.hint else self.message


class ConfigError(ShikumiError):
    """Settings are missing or invalid."""


class ModelAssetError(ShikumiError):
    """An embedded model could not be found, assembled or verified."""


class AudioError(ShikumiError):
    """An upload cannot be decoded or is not usable speech."""


class TranscriptionError(ShikumiError):
    """Whisper failed on an audio file that decoded fine."""


class LLMError(ShikumiError):
    """The language model endpoint failed or kept returning invalid output."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        provider: str = "",
        attempts: list[str] | None = None,
        cause: BaseException | None = None,
    ):
        super().__init__(message, hint, cause=cause)
        self.provider = provider
        self.attempts = attempts or []


class NotFoundError(ShikumiError):
    """An interview, element or job id does not exist."""


class ReviewError(ShikumiError):
    """A review action is not allowed in the element's current state."""
