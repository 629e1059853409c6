"""Properties of Swedish identity numbers (kivra/identity.py), over generated numbers: what a reference
implementation's fixed list cannot cover."""
from datetime import date

from hypothesis import assume, given, strategies as st

from kivra.identity import OrgnrError, PersonnummerError, luhn_valid, parse_orgnr, parse_personnummer, with_check_digit
from kivra.sandbox.validation import ssn_problem

TODAY = date(2026, 12, 1)
births = st.dates(min_value=date(1870, 1, 1), max_value=TODAY)  # kivra.identity.EARLIEST_BIRTH
serials = st.integers(min_value=1, max_value=999).map(lambda n: f"{n:03d}")


@st.composite
def personnummer(draw, coordination=st.booleans()):
    born, serial = draw(births), draw(serials)
    day = born.day + (60 if draw(coordination) else 0)
    return born, with_check_digit(f"{born:%Y%m}{day:02d}{serial}")


def _age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


@given(personnummer())
def test_parse_format_parse_is_the_same_number(drawn):
    _, digits = drawn
    number = parse_personnummer(digits, TODAY)
    assert number.digits == digits
    assert parse_personnummer(number.formatted(), TODAY) == number
    assert parse_personnummer(number.short(TODAY), TODAY) == number


@given(personnummer())
def test_the_short_and_long_forms_agree_with_the_century_rule(drawn):
    born, digits = drawn
    sign = "+" if _age(born) >= 100 else "-"
    short = f"{digits[2:8]}{sign}{digits[8:]}"
    assert parse_personnummer(short, TODAY).digits == digits
    assert parse_personnummer(f"{digits[:8]}-{digits[8:]}", TODAY).digits == digits
    assert parse_personnummer(f"{digits[:8]}+{digits[8:]}", TODAY).digits == digits  # the century says it all
    if _age(born) < 100:  # without the sign, six date digits name the last hundred years
        assert parse_personnummer(digits[2:], TODAY).digits == digits


@given(personnummer(), st.integers(min_value=2, max_value=11), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_breaks_the_number(drawn, position, step):
    _, digits = drawn
    changed = digits[:position] + str((int(digits[position]) + step) % 10) + digits[position + 1:]
    try:
        parse_personnummer(changed, TODAY)
    except PersonnummerError:
        return
    raise AssertionError(f"{changed} (one digit from {digits}) parsed")


@given(births, st.integers(min_value=0, max_value=9), st.sampled_from(["", "-"]))
def test_birth_number_000_never_parses(born, check, separator):
    text = f"{born:%Y%m%d}{separator}000{check}"
    try:
        parse_personnummer(text, TODAY)
    except PersonnummerError as error:
        assert error.reason in ("serial", "date")
        return
    raise AssertionError(f"{text} parsed")


@given(personnummer(coordination=st.just(False)))
def test_the_sandbox_accepts_what_the_app_accepts_and_refuses_samordningsnummer(drawn):
    """The sandbox is Kivra and shares no code with the app (docs/architecture.md, Layers); it must still agree."""
    _, digits = drawn
    assert ssn_problem(digits) is None
    coordination = with_check_digit(f"{digits[:6]}{int(digits[6:8]) + 60:02d}{digits[8:11]}")
    assert ssn_problem(coordination) == "Samordningsnummer (coordination numbers) are not accepted"


@given(st.sampled_from("12356789"), st.integers(min_value=2, max_value=9), st.integers(0, 10**7 - 1))
def test_an_organisationsnummer_round_trips_and_one_changed_digit_breaks_it(group, third, rest):
    nine = f"{group}{rest // 10**6 % 10}{third}{rest % 10**6:06d}"
    digits = next(nine + d for d in "0123456789" if luhn_valid(nine + d))
    number = parse_orgnr(digits, TODAY)
    assert parse_orgnr(number.formatted(), TODAY) == number and not number.is_sole_trader
    broken = digits[:9] + str((int(digits[9]) + 1) % 10)
    try:
        parse_orgnr(broken, TODAY)
    except OrgnrError:
        return
    raise AssertionError(f"{broken} parsed")


@given(personnummer(coordination=st.just(False)))
def test_a_personnummer_is_a_sole_traders_orgnr(drawn):
    born, digits = drawn
    assume(_age(born) < 100)  # an org.nr has no `+`: the ten digits name the last hundred years
    assert parse_orgnr(digits[2:], TODAY).is_sole_trader
