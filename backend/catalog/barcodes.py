"""GTIN barcodes: EAN-13 and UPC-A (GTIN-12), with the GS1 mod-10 check digit."""

from __future__ import annotations


def check_digit(body: str) -> int:
    """The GS1 check digit for the digits before it: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def barcode_problem(code: str) -> str | None:
    """Why `code` is not a valid EAN-13 or UPC-A, or None when it is."""
    if not code.isdigit() or not code.isascii():
        return "must contain digits only"
    if len(code) not in (12, 13):
        return f"must be 13 digits (EAN-13) or 12 (UPC-A), not {len(code)}"
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        return f"check digit is {code[-1]}, expected {expected}"
    return None


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))
