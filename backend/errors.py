"""Domain errors and the one mapping from errors to HTTP problem details (RFC 9457).

Services raise `DomainError`s; they never know about HTTP. `exception_handlers` turns those, Litestar's own
validation and HTTP errors into `application/problem+json` with a stable machine `code`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("fieldbook")

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct):
    """The body of every error answer."""

    status: int
    code: str
    title: str
    detail: str = ""
    errors: list[FieldError] = msgspec.field(default_factory=list)
    type: str = "about:blank"


class DomainError(Exception):
    status = 400
    code = "error"
    title = "Request failed"

    def __init__(self, detail: str, *, code: str | None = None, errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.errors = errors or []


class Invalid(DomainError):
    status = 400
    code = "validation.invalid"
    title = "Invalid input"

    @classmethod
    def field(cls, field: str, message: str, *, code: str | None = None) -> Invalid:
        return cls(f"{field}: {message}", code=code, errors=[FieldError(field, message)])


class Unauthorized(DomainError):
    status = 401
    code = "auth.unauthorized"
    title = "Not authenticated"


class Forbidden(DomainError):
    status = 403
    code = "auth.forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None):
        super().__init__(detail, code=code)
        self.retry_after = retry_after


def _problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return _problem_response(
        Problem(status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, errors=exc.errors),
        headers,
    )


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")


def _field_errors(extra: Any) -> list[FieldError]:
    """Litestar reports msgspec failures as [{"message": ..., "key": ..., "source": ...}]; name each field."""
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        field = str(item.get("key") or "")
        match = _AT_PATH.search(message)
        if match:
            message = message[: match.start()]
            inner = match.group(1)
            field = inner if field in ("", "data") else f"{field}.{inner}" if inner else field
        if field.startswith("data."):
            field = field[len("data.") :]
        if field == "data":
            field = "body"
        # msgspec names the field in the message: "Object contains unknown field `org_id`",
        # "Object missing required field `code`".
        unknown = re.search(r"(?:unknown|missing required) field `([^`]+)`", message)
        if unknown:
            field = f"{field}.{unknown.group(1)}" if field not in ("", "body") else unknown.group(1)
        errors.append(FieldError(field or "body", message))
    return errors


_STATUS_CODES = {
    400: "request.bad",
    401: "auth.unauthorized",
    403: "auth.forbidden",
    404: "not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "rate_limited",
}


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc.extra) or [FieldError("body", str(exc.detail))]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
        problem = Problem(status=400, code="validation.invalid", title="Invalid input", detail=detail, errors=errors)
        return _problem_response(problem)
    detail = str(exc.detail)
    if status == 400:
        # Litestar raises a plain 400 when the body is not JSON at all (truncated, bad syntax, bad bytes).
        problem = Problem(
            status=400,
            code="request.malformed",
            title="Malformed request body",
            detail=detail,
            errors=[FieldError("body", detail)],
        )
        return _problem_response(problem)
    if status == 413:
        detail = "Request body is larger than this endpoint accepts"
    problem = Problem(status=status, code=_STATUS_CODES.get(status, f"http.{status}"), title=detail, detail=detail)
    return _problem_response(problem, dict(exc.headers or {}))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem_response(
        Problem(status=500, code="internal", title="Internal error", detail="The server failed; it was logged.")
    )


exception_handlers: dict[Any, Any] = {
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected,
}

__all__ = [
    "PROBLEM_JSON",
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Problem",
    "TooManyRequests",
    "Unauthorized",
    "exception_handlers",
]
