"""The problems an Idempotency-Key can earn."""

from __future__ import annotations

from app.core.errors import BadRequest, Conflict, Unprocessable

#: Seconds a client should wait before retrying a key whose first request still runs.
RETRY_AFTER_SECONDS = 1


class InvalidIdempotencyKey(BadRequest):
    code = "invalid-idempotency-key"
    detail = "Idempotency-Key must be one header of 1-255 printable ASCII characters."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency-key-in-use"
    detail = ("A request with this Idempotency-Key is still being processed; "
              "retry it shortly to get its response.")

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency-key-reused"
    detail = ("This Idempotency-Key was already used with a different request "
              "(method, path or body); use a new key for a new request.")
