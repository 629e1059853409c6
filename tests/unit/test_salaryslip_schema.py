"""The salaryslip check: the compiled validator (fastjsonschema) accepts exactly what jsonschema accepts, and a
refusal names the first place by path, as before."""
import copy

import pytest
from jsonschema import Draft6Validator, FormatChecker

from kivra.contract import salaryslip_schema
from kivra.sender_api import content
from kivra.sender_api.content import PayloadError, check_salaryslip
from tests.kivra_samples import SLIP


def changed(path: str, value) -> dict:
    slip = copy.deepcopy(SLIP)
    *parents, last = path.split("/")
    place = slip
    for key in parents:
        place = place[key]
    if value is KeyError:
        del place[last]
    else:
        place[last] = value
    return slip


DOCUMENTS = {
    "valid": SLIP,
    "a day that does not exist": changed("pay_period/payout_date", "2026-02-31"),
    "not a date": changed("pay_period/start_date", "25 november"),
    "an e-mail without @": changed("employment/employer/contact_information/email_address", "lon.demo.se"),
    "a timestamp that is not one": changed("document_metadata/creation_timestamp", "yesterday"),
    "an amount as a number": changed("pay_period/net_pay/monetary_amount", 22750),
    "a required field missing": changed("pay_period/gross_pay", KeyError),
    "a field Kivra does not know": changed("pay_period/bonus", {"monetary_amount": "1", "currency": "SEK"}),
    "the wrong type": changed("employment", "Demo AB"),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_compiled_validator_agrees_with_jsonschema(name):
    document = DOCUMENTS[name]
    reference = Draft6Validator(salaryslip_schema(), format_checker=FormatChecker()).is_valid(document)
    try:
        content._compiled()(document)
        compiled = True
    except Exception:  # noqa: BLE001 - any refusal counts as one
        compiled = False
    assert compiled == reference


def test_a_valid_salaryslip_passes():
    check_salaryslip(copy.deepcopy(SLIP))


def test_a_refusal_names_the_first_place_by_path():
    with pytest.raises(PayloadError, match="at pay_period/payout_date"):
        check_salaryslip(changed("pay_period/payout_date", "2026-02-31"))
