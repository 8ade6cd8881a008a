"""Canonical JSON (the last tie-breaker) reads back as the same value and is stable under a JSON round trip."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from sync.changes import canonical, js_number

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_reads_back_as_the_same_double(x: float) -> None:
    text = js_number(x)
    assert float(text) == x or (x == 0 and float(text) == 0)
    assert not text.endswith(".0") and " " not in text


@given(json_values.filter(lambda v: "Infinity" not in json.dumps(v)))
def test_canonical_text_survives_a_json_round_trip(value: object) -> None:
    text = canonical(value)
    assert canonical(json.loads(text)) == text


def test_infinity_is_written_as_json_stringify_writes_it() -> None:
    assert js_number(math.inf) == "null"
