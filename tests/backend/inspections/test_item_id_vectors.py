"""Inspection item ids against the shared vectors (the phone's port, pwa/src/ids.ts, passes the same file)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from backend.inspections import ids

VECTORS = json.loads((Path(ids.__file__).parent / "vectors" / "item_ids.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_item_id_matches_the_shared_vectors(case: dict[str, Any]) -> None:
    derived = ids.item_id(case["inspection_id"], case["product_id"])
    assert str(derived) == case["expected"]
    assert derived.version == 5
    assert derived.variant == uuid.RFC_4122


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_the_hashed_name_is_the_canonical_pair(case: dict[str, Any]) -> None:
    assert case["uuid5_name"] == f"{uuid.UUID(case['inspection_id'])}/{uuid.UUID(case['product_id'])}"
    assert str(uuid.uuid5(ids.NAMESPACE, case["uuid5_name"])) == case["expected"]


def test_the_vectors_use_the_fixed_namespace() -> None:
    assert VECTORS["namespace"] == str(ids.NAMESPACE) == "0d4c3f8e-6b1a-5e0f-9c2d-7a4b8e1f3c55"


def test_the_vectors_cover_other_spellings_of_one_id() -> None:
    """Upper case, no hyphens, braces and urn:uuid: are read as the canonical id, so the same item id comes out."""
    spellings = [c for c in VECTORS["cases"] if c["inspection_id"] != c["inspection_id"].lower()]
    assert spellings, "a case with an upper-case id"
    by_name: dict[str, set[str]] = {}
    for case in VECTORS["cases"]:
        by_name.setdefault(case["uuid5_name"], set()).add(case["expected"])
    assert all(len(expected) == 1 for expected in by_name.values())
    assert len(VECTORS["cases"]) > len(by_name)
