"""Företagsinställningar: an admin edits the company's details in either language, page or htmx; every rule's message
keeps what was typed; payroll administrators are refused; a new name reaches Kivra's tenant through a worker."""
import re
from decimal import Decimal

import pytest

from kivra import agreement, clock
from kivra.accounts.models import Company
from kivra.agreement import kivra_calls, onboarding
from kivra.agreement.models import JobKind, JobState, KivraJob
from kivra.dispatch import tasks
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from tests.conftest import make_user, text

pytestmark = pytest.mark.both_databases

URL = "/company/settings"
VALID = {
    "name": "Demo AB", "orgnr": "556840-2266", "street_address": "Storgatan 1", "postal_code": "11122",
    "city": "Stockholm", "email": "lon@demo.se", "phone": "08-123 456 78", "bankgiro": "5050-1055",
    "clearing_number": "", "account_number": "", "employer_contribution_rate": "31,42", "payout_day": "25",
}
# (field, typed, Swedish, English): every rule's message
RULES = [
    ("name", "", "Ange företagets namn", "Enter the company's name"),
    ("orgnr", "", "Ange organisationsnumret", "Enter the organisation number"),
    ("orgnr", "5568402267", "kontrollsiffra", "check digit"),
    ("orgnr", "55684", "NNNNNN-NNNN", "NNNNNN-NNNN"),
    ("orgnr", "5560360793", "Ett annat företag har redan", "Another company already has"),
    ("postal_code", "1234", "fem siffror", "five digits"),
    ("email", "lon@", "giltig e-postadress", "valid e-mail address"),
    ("phone", "ring mig", "telefonnumret med siffror", "telephone number with digits"),
    ("bankgiro", "5050-1056", "Bankgironumrets sista siffra", "bankgiro number's last digit"),
    ("bankgiro", "12-3456", "7 eller 8 siffror", "7 or 8 digits"),
    ("employer_contribution_rate", "101", "mellan 0 och 100", "between 0 and 100"),
    ("employer_contribution_rate", "31,425", "mellan 0 och 100", "between 0 and 100"),
    ("employer_contribution_rate", "", "Ange arbetsgivaravgiften", "Enter the employer contribution rate"),
    ("payout_day", "29", "mellan 1 och 28", "between 1 and 28"),
    ("payout_day", "x", "mellan 1 och 28", "between 1 and 28"),
]
BANK_RULES = [
    ({"bankgiro": "", "clearing_number": "8327-0", "account_number": "1234567"}, "clearing_number",
     "femte siffra", "fifth digit"),
    ({"bankgiro": "", "clearing_number": "67890", "account_number": "1234567"}, "clearing_number",
     "4 siffror", "4 digits"),
    ({"bankgiro": "", "clearing_number": "6789", "account_number": "12345"}, "account_number",
     "7 till 10 siffror", "7 to 10 digits"),
    ({"bankgiro": "", "clearing_number": "6789", "account_number": ""}, "account_number",
     "Ange kontonumret också", "Enter the account number too"),
    ({"bankgiro": "", "clearing_number": "", "account_number": "1234567"}, "clearing_number",
     "Ange clearingnumret också", "Enter the clearing number too"),
    ({"bankgiro": "5050-1055", "clearing_number": "6789", "account_number": "1234567"}, "bankgiro",
     "inte båda", "not both"),
]


def company_now(company_id: int) -> Company:
    db.session.expire_all()
    return db.session.get(Company, company_id)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_admin_saves_every_setting_and_reads_them_back_as_written(as_admin, company, lang, htmx):
    response = as_admin.post(URL, {**VALID, "name": "Demo Nord AB", "employer_contribution_rate": "31,4 %",
                                   "payout_day": "27"}, htmx=htmx)
    assert response.status_code == (200 if htmx else 303)
    saved = company_now(company.id)
    assert (saved.name, saved.postal_code, saved.bankgiro, saved.clearing_number) == (
        "Demo Nord AB", "111 22", "50501055", None)
    assert (saved.employer_contribution_rate, saved.payout_day, saved.phone) == (Decimal("31.40"), 27, "08-123 456 78")
    page = as_admin.get(URL) if not htmx else response
    body = text(page)
    assert {"sv": "Företagsinställningarna är sparade", "en": "The company settings are saved"}[lang] in body
    html = page.get_data(as_text=True)
    assert 'value="111 22"' in html and 'value="5050-1055"' in html and 'value="31,40"' in html
    assert ("<html" in html) is not htmx


def test_a_clearing_and_account_number_replace_the_bankgiro(as_admin, company):
    company.bankgiro = "50501055"
    db.session.commit()
    as_admin.post(URL, {**VALID, "bankgiro": "", "clearing_number": "8327 9", "account_number": "123 456 789-0"})
    saved = company_now(company.id)
    assert (saved.bankgiro, saved.clearing_number, saved.account_number) == (None, "83279", "1234567890")
    assert 'value="8327-9"' in as_admin.get(URL).get_data(as_text=True)


@pytest.mark.parametrize("field, typed, sv, en", RULES)
@pytest.mark.parametrize("htmx", [False, True])
def test_every_rule_says_what_is_wrong_next_to_the_field_and_keeps_what_was_typed(
        as_admin, company, other_company, lang, htmx, field, typed, sv, en):
    response = as_admin.post(URL, {**VALID, field: typed, "city": "Typed Stad"}, htmx=htmx)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert {"sv": sv, "en": en}[lang] in text(response)
    assert f'id="{field}-error"' in html
    if typed:
        assert f'value="{typed}"' in html
    assert 'value="Typed Stad"' in html and ("<html" in html) is not htmx
    assert company_now(company.id).city is None  # nothing was saved


@pytest.mark.parametrize("typed, field, sv, en", BANK_RULES)
def test_the_bank_account_rules(as_admin, company, lang, typed, field, sv, en):
    response = as_admin.post(URL, {**VALID, **typed}, htmx=True)
    assert response.status_code == 422
    assert {"sv": sv, "en": en}[lang] in text(response) and f'id="{field}-error"' in response.get_data(as_text=True)


def test_kivra_s_reason_for_the_contact_details_is_shown_beside_them(as_admin, lang):
    page = text(as_admin.get(URL))
    assert {"sv": "Kivra kräver adress, e-post och telefon på lönebeskedet",
            "en": "Kivra requires the address, e-mail and telephone on the payslip"}[lang] in page


@pytest.mark.parametrize("url, method", [(URL, "get"), (URL, "post"), (URL + "/kivra-name", "get"),
                                         (URL + "/kivra-name", "post")])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_payroll_administrator_is_refused_and_told_whom_to_ask(as_payroll, company, admin, lang, url, method, htmx):
    response = getattr(as_payroll, method)(url, htmx=htmx, **({"data": VALID} if method == "post" else {}))
    assert response.status_code == 403
    assert {"sv": "Bara en administratör kan ändra företagsinställningarna",
            "en": "Only an administrator can change the company settings"}[lang] in text(response)
    assert admin.name in text(response) and "5050-1055" not in text(response)
    assert company_now(company.id).bankgiro is None


def test_the_nav_link_is_shown_to_admins_only(as_admin, client, company, lang):
    label = {"sv": "Företagsinställningar", "en": "Company settings"}[lang]
    assert label in text(as_admin.get("/runs"))
    as_admin.raw.post("/logout", data={"csrf_token": as_admin.token})
    payroll = client.login(make_user(company, "payroll", locale=lang))
    assert label not in text(payroll.get("/runs"))


def test_only_the_own_company_is_shown_and_saved(as_admin, company, other_company):
    other_company.street_address, other_company.bankgiro = "Annan väg 9", "12345674"
    db.session.commit()
    page = text(as_admin.get(URL))
    assert "Annat AB" not in page and "Annan väg 9" not in page and "1234-5674" not in page
    as_admin.post(URL, {**VALID, "city": "Malmö"})
    assert (company_now(company.id).city, company_now(other_company.id).city) == ("Malmö", None)


def test_the_orgnr_is_read_only_after_the_first_send_with_the_reason(as_admin, company, run, lang):
    assert 'name="orgnr"' in as_admin.get(URL).get_data(as_text=True)
    as_admin.post(f"/runs/{run.id}/send/min-lon")
    page = as_admin.get(URL)
    html = page.get_data(as_text=True)
    assert 'name="orgnr"' not in html and 'value="556840-2266" readonly' in html
    assert {"sv": "efter företagets första utskick", "en": "after the company's first send"}[lang] in text(page)
    response = as_admin.post(URL, {**VALID, "orgnr": "556036-0793", "city": "Lund"})
    assert response.status_code == 303
    assert (company_now(company.id).orgnr, company_now(company.id).city) == ("5568402266", "Lund")


def test_the_payout_day_is_proposed_for_a_new_run(as_admin, company):
    as_admin.post(URL, {**VALID, "payout_day": "20"})
    html = as_admin.get("/runs").get_data(as_text=True)
    proposed = clock.today_in_sweden().replace(day=20).isoformat()
    assert re.search(rf'<input[^>]*name="payout_date"[^>]*value="{proposed}"', html)


def test_saving_without_the_forms_security_token_changes_nothing(as_admin, company):
    response = as_admin.post(URL, {**VALID, "city": "Lund"}, csrf=False)
    assert response.status_code == 400 and company_now(company.id).city is None


def test_the_send_step_warning_links_admins_to_the_settings_and_tells_others_to_ask(
        as_admin, client, admin, company, run, lang):
    agreement.approve(company, admin)
    html = as_admin.get(f"/runs/{run.id}/send-and-post").get_data(as_text=True)
    assert f'href="{URL}"' in html
    as_admin.raw.post("/logout", data={"csrf_token": as_admin.token})
    payroll = client.login(make_user(company, "payroll", locale=lang))
    response = payroll.get(f"/runs/{run.id}/send-and-post")
    assert f'href="{URL}"' not in response.get_data(as_text=True)
    assert {"sv": "Be en administratör fylla i dem under Företagsinställningar",
            "en": "Ask an administrator to fill them in under Company settings"}[lang] in text(response)


def test_saving_a_new_name_renames_the_kivra_tenant_through_a_worker(as_admin, admin, company, kivra, lang):
    agreement.approve(company, admin)
    onboarding.register(company, kivra_client())
    key = onboarding.tenant_key(company.id)
    assert key
    response = as_admin.post(URL, {**VALID, "name": "Demo Nord AB"}, htmx=True)
    assert {"sv": "skickas till Kivra", "en": "being sent to Kivra"}[lang] in text(response)
    assert 'hx-swap-oob="true"' in response.get_data(as_text=True)  # the rename's state beside the saved form
    assert kivra_client().get_tenant(key)["name"] == "Demo AB"  # the web request did not call Kivra
    tasks.drain()  # a worker
    assert kivra_client().get_tenant(key)["name"] == "Demo Nord AB"
    poll = as_admin.get(URL + "/kivra-name", htmx=True)
    assert {"sv": "avsändarnamnet uppdaterades", "en": "sender name was updated"}[lang] in text(poll)
    assert "hx-trigger" not in poll.get_data(as_text=True)  # done: no more polling
    # Saving without a new name asks Kivra nothing.
    as_admin.post(URL, {**VALID, "name": "Demo Nord AB", "city": "Lund"})
    assert kivra_calls.latest(company.id, JobKind.TENANT_NAME).state == JobState.DONE
    assert db.session.query(KivraJob).filter_by(kind=JobKind.TENANT_NAME).count() == 1


def test_a_name_kivra_refuses_is_shown_with_kivra_s_message_and_can_be_sent_again(
        as_admin, admin, company, kivra, lang):
    agreement.approve(company, admin)
    onboarding.register(company, kivra_client())
    key = onboarding.tenant_key(company.id)
    kivra.state.tenants.pop(key)  # Kivra no longer knows the tenant: 404
    as_admin.post(URL, {**VALID, "name": "Demo Nord AB"})
    tasks.drain()
    page = text(as_admin.get(URL))
    assert {"sv": "Kivra tog inte emot det nya namnet", "en": "Kivra did not take the new name"}[lang] in page
    assert "No tenant with this key" in page and "40400" in page
    response = as_admin.post(URL + "/kivra-name", htmx=True)
    assert {"sv": "skickas till Kivra", "en": "being sent to Kivra"}[lang] in text(response)


def test_without_a_kivra_tenant_a_new_name_asks_kivra_nothing(as_admin, company, lang):
    as_admin.post(URL, {**VALID, "name": "Demo Nord AB"})
    assert kivra_calls.latest(company.id, JobKind.TENANT_NAME) is None
    assert company_now(company.id).name == "Demo Nord AB"
