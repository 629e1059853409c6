"""The agreement's pages say what happened (issue 18.2, 18.8, 18.9): a scope change says the new scope, an empty scope is
refused beside the checkboxes with what was ticked, the run says when and by whom Kivra was ended, re-activation
offers the scope before, an agreement opened from a run already sent says approving changes nothing for it, and the
terms can be scrolled with the keyboard."""
import re

import pytest
from babel.dates import format_date

from kivra import agreement
from kivra.clock import in_sweden
from tests.conftest import text

pytestmark = pytest.mark.both_databases

WORDS = {
    "sv": {"approved": "Avtalet med Kivra är godkänt.", "both": "Avtalet omfattar nu lönebesked och fakturor.",
           "invoices": "Avtalet omfattar nu fakturor.",
           "choose": "Välj vad Kivra får användas till: lönebesked, fakturor eller båda.",
           "discontinued": "Kivra avslutades {day} av Admin User.", "not_approved": "inte godkänt",
           "not_active": "inte aktivt", "already_sent": "redan skickade, så ett godkännande ändrar inget",
           "automatic": "automatiskt", "not_now": "Inte nu: skicka enbart till Min lön",
           "back": "Tillbaka till lönekörningen för november 2026", "terms": "Avtalstext"},
    "en": {"approved": "The Kivra agreement is approved.", "both": "The agreement now covers payslips and invoices.",
           "invoices": "The agreement now covers invoices.",
           "choose": "Choose what Kivra may be used for: payslips, invoices or both.",
           "discontinued": "Kivra was discontinued on {day} by Admin User.", "not_approved": "not approved",
           "not_active": "not active", "already_sent": "already been sent, so approving changes nothing",
           "automatic": "automatically", "not_now": "Not now: send to Min lön only",
           "back": "Back to the payroll run for November 2026", "terms": "Agreement text"},
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


def approve(client, payslips=True, invoices=False, htmx=False, **extra):
    data = {key: "1" for key, on in (("payslips", payslips), ("invoices", invoices)) if on}
    return client.post("/solutions/kivra/agreement", {**data, **extra}, htmx=htmx)


def ticked(page) -> dict:
    html = page.get_data(as_text=True)
    return {name: bool(re.search(rf'name="{name}" value="1" checked', html)) for name in ("payslips", "invoices")}


@pytest.mark.parametrize("htmx", [False, True])
def test_a_scope_change_says_the_new_scope(as_admin, company, words, htmx):
    as_admin.get(approve(as_admin).location)  # the approval's own message, read
    changed = approve(as_admin, payslips=True, invoices=True, htmx=htmx)
    # htmx follows HX-Redirect, a form the 303, to the status page, which carries the flash
    shown = text(as_admin.get(changed.headers["HX-Redirect"] if htmx else changed.location))
    assert words["both"] in shown and words["approved"] not in shown
    assert words["invoices"] in text(as_admin.get(approve(as_admin, payslips=False, invoices=True).location))


def test_the_first_approval_still_says_approved(as_admin, words):
    approve(as_admin)
    assert words["approved"] in text(as_admin.get("/solutions/kivra"))


@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_scope_is_refused_beside_the_checkboxes_keeping_what_was_ticked(as_admin, admin, company, words,
                                                                                  htmx):
    agreement.approve(company, admin, payslips=False, invoices=True)
    refused = approve(as_admin, payslips=False, invoices=False, htmx=htmx)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    fieldset = html[html.index("<fieldset"):html.index("</fieldset>")]
    assert words["choose"] in text(refused) and 'id="scope-error"' in fieldset and 'aria-invalid="true"' in fieldset
    assert ticked(refused) == {"payslips": False, "invoices": False}  # as sent, not the agreement's invoices
    assert agreement.in_force(company.id).covers_invoices  # nothing changed


def test_the_run_says_when_and_by_whom_kivra_was_ended(as_admin, run, words, lang):
    approve(as_admin)
    assert as_admin.post("/solutions/kivra/discontinue").status_code == 303
    ended = in_sweden(agreement.history(run.company_id)[0].ended_at).date()
    day = format_date(ended, "medium", locale={"sv": "sv", "en": "en_GB"}[lang])  # 30 nov. 2026 / 30 Nov 2026
    shown = text(as_admin.get(f"/runs/{run.id}/send-and-post"))
    assert words["discontinued"].format(day=day) in shown
    assert words["not_approved"] not in shown and words["not_active"] not in shown


def test_reactivation_offers_the_scope_before(as_admin, admin, company):
    agreement.approve(company, admin, payslips=False, invoices=True)
    as_admin.post("/solutions/kivra/discontinue")
    assert ticked(as_admin.get("/solutions/kivra/agreement")) == {"payslips": False, "invoices": True}


def test_a_new_agreement_offers_payslips(as_admin):
    assert ticked(as_admin.get("/solutions/kivra/agreement")) == {"payslips": True, "invoices": False}


def test_the_agreement_from_a_run_already_sent_says_approving_changes_nothing_for_it(as_admin, run, words):
    assert as_admin.post(f"/runs/{run.id}/send/min-lon").status_code == 303  # "Not now": sent to Min lön
    page = as_admin.get(f"/solutions/kivra/agreement?run={run.id}")
    shown = text(page)
    assert words["already_sent"] in shown and words["automatic"] not in shown
    assert words["not_now"] not in shown  # nothing left to send to Min lön
    assert words["back"] in shown and f'href="/runs/{run.id}/send-and-post"' in page.get_data(as_text=True)


def test_the_agreement_from_a_run_not_yet_sent_still_offers_both_ways(as_admin, run, words):
    shown = text(as_admin.get(f"/solutions/kivra/agreement?run={run.id}"))
    assert words["automatic"] in shown and words["not_now"] in shown and words["already_sent"] not in shown


def test_the_terms_are_a_named_region_the_keyboard_can_scroll(as_admin, words):
    html = as_admin.get("/solutions/kivra/agreement").get_data(as_text=True)
    assert f'class="agreement-text" tabindex="0" role="region" aria-label="{words["terms"]}"' in html
