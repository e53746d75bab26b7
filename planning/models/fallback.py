"""Try several model clients in order until one answers."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from planning.models.base import (
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
)


class FallbackClient(ModelClient):
    """Asks ``clients`` in order; moves on when one is unavailable or times out.

    A ModelResponseError (the model answered, badly) is raised at once by default: falling back
    would hide a broken primary model and cost another full call; pass
    ``fallback_on_response_error=True`` to move on then too. Other ModelErrors (a rejected request)
    are always raised at once.

    After each call ``last_errors`` lists (client name, error sentence) of the clients that failed
    and ``last_used`` names the one that answered (None if none did). With concurrent calls these
    describe whichever call finished last; ModelResponse.model always names the answering client.
    When every client fails the error is ModelTimeout if all timed out, ModelResponseError if all
    answered badly, else ModelUnavailable; its sentence names each client and its error.
    It accepts images when one of its clients does; a client that reads text only gets the request
    without them.
    """

    def __init__(self, clients: Sequence[ModelClient], fallback_on_response_error: bool = False) -> None:
        if not clients:
            raise ValueError("FallbackClient needs at least one client.")
        self.clients = tuple(clients)
        self.fallback_on_response_error = fallback_on_response_error
        self.name = "fallback(" + ", ".join(c.name for c in self.clients) + ")"
        self.last_errors: list[tuple[str, str]] = []
        self.last_used: str | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Warm every client that can be warmed; one that cannot is left to fail over at call time."""
        for client in self.clients:
            try:
                client.warm_up()
            except ModelError:
                continue

    @property
    def accepts_images(self) -> bool:
        return any(c.accepts_images for c in self.clients)

    def complete(self, request: ModelRequest) -> ModelResponse:
        passing: tuple[type[ModelError], ...] = (ModelUnavailable, ModelTimeout)
        if self.fallback_on_response_error:
            passing += (ModelResponseError,)
        errors: list[tuple[str, str]] = []
        failures: list[ModelError] = []
        for client in self.clients:
            try:
                response = client.complete(request if client.accepts_images else request.without_images())
            except passing as error:
                errors.append((client.name, str(error)))
                failures.append(error)
                continue
            except ModelError as error:
                errors.append((client.name, str(error)))
                self._remember(errors, None)
                raise
            self._remember(errors, client.name)
            return response
        self._remember(errors, None)
        summary = "; ".join(f"{name}: {sentence}" for name, sentence in errors)
        if all(isinstance(f, ModelTimeout) for f in failures):
            raise ModelTimeout(f"No model answered in time. {summary}") from failures[-1]
        if all(isinstance(f, ModelResponseError) for f in failures):
            raise ModelResponseError(f"No model gave a usable answer. {summary}") from failures[-1]
        raise ModelUnavailable(f"No model could answer. {summary}") from failures[-1]

    def _remember(self, errors: list[tuple[str, str]], used: str | None) -> None:
        with self._lock:
            self.last_errors = errors
            self.last_used = used
