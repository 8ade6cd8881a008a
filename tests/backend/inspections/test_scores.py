"""The shelf-score formulas against the shared vectors (the phone's port passes the same file)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import msgspec
import pytest

from backend.inspections import scores
from backend.inspections.rules import ScoreWeights

VECTORS = json.loads((Path(scores.__file__).parent / "vectors" / "scores.json").read_text())


def close(actual: Any, expected: Any) -> bool:
    """Equal, numbers within 1e-9 (the vectors' rule), booleans and None exactly."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(close(actual[k], expected[k]) for k in expected)
        )
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if isinstance(expected, int | float):
        return (
            isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9)
        )
    return bool(actual == expected)


def run(case: dict[str, Any]) -> scores.Result:
    return scores.score(
        store=msgspec.convert(case["store"], scores.StoreFacts),
        products={k: msgspec.convert(v, scores.ProductFacts) for k, v in case["products"].items()},
        rules=[msgspec.convert(r, scores.Rule) for r in case["rules"]],
        items=[msgspec.convert(i, scores.Item) for i in case["items"]],
        weights=msgspec.convert(case["weights"], ScoreWeights),
        default_tolerance_pct=VECTORS["default_price_tolerance_pct"],
    )


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_scores_match_the_shared_vectors(case: dict[str, Any]) -> None:
    result = msgspec.to_builtins(run(case))
    assert close(result["scores"], case["expected"]["scores"]), result["scores"]
    assert close(result["items"], case["expected"]["items"]), result["items"]


def test_every_score_is_a_share_between_zero_and_one() -> None:
    for case in VECTORS["cases"]:
        for value in msgspec.to_builtins(run(case).scores).values():
            assert value is None or 0.0 <= value <= 1.0


def test_the_vectors_cover_the_cases_the_issue_names() -> None:
    names = " ".join(c["name"] for c in VECTORS["cases"])
    for needed in ("empty inspection", "missing from the assortment", "duplicate scans"):
        assert needed in names


def test_weights_must_not_all_be_zero() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(
            {"assortment": 0, "availability": 0, "facings": 0, "price": 0, "share_of_shelf": 0}, ScoreWeights
        )
