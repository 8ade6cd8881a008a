from hypothesis import given
from hypothesis import strategies as st

from backend.catalog.barcodes import barcode_problem, check_digit, with_check_digit

bodies = st.one_of(st.text("0123456789", min_size=12, max_size=12), st.text("0123456789", min_size=11, max_size=11))


def test_known_barcodes():
    assert barcode_problem("4006381333931") is None  # EAN-13 from the GS1 examples
    assert barcode_problem("036000291452") is None  # UPC-A
    assert barcode_problem("6901234567892") is None
    assert "check digit" in barcode_problem("4006381333932")
    assert "digits" in barcode_problem("40063813339X1")
    assert "13 digits" in barcode_problem("12345")
    assert "digits" in barcode_problem("٤٠٠٦٣٨١٣٣٣٩٣١")  # Arabic-Indic digits are not GTIN digits


@given(bodies)
def test_a_computed_check_digit_is_valid(body):
    assert barcode_problem(with_check_digit(body)) is None


@given(bodies, st.data())
def test_any_single_digit_error_is_caught(body, data):
    code = with_check_digit(body)
    position = data.draw(st.integers(0, len(code) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    assert barcode_problem(code[:position] + wrong + code[position + 1 :]) is not None


def test_check_digit_weights():
    assert check_digit("400638133393") == 1
    assert check_digit("03600029145") == 2
