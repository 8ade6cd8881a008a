"""The photo domain's refusals that have no general class in backend/errors.py (413 and 415)."""

from __future__ import annotations

from backend.errors import DomainError, FieldError


class PhotoTooLarge(DomainError):
    status = 413
    code = "photo.too_large"
    title = "Photo too large"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, errors=[FieldError("body", detail)])


class UnsupportedPhotoType(DomainError):
    status = 415
    code = "photo.unsupported_type"
    title = "Unsupported media type"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[FieldError("body", detail)])
