"""Företagsinställningar in a browser, in Swedish and English: the send step's warning leads the admin to the
settings; errors are shown beside the fields as typed; saved, the new name reaches Kivra's tenant by itself."""
import pytest
from playwright.sync_api import expect

from kivra import agreement
from kivra.accounts.models import Company, User
from kivra.agreement import onboarding
from kivra.extensions import db
from kivra.payroll.models import PayrollRun
from kivra.sender_api.app import kivra_client

pytestmark = pytest.mark.e2e
SCREENSHOTS = "test-artifacts"
TEXT = {
    "sv": {"settings": "Företagsinställningar", "fill": "Fyll i dem under Företagsinställningar",
           "street": "Gatuadress", "postal": "Postnummer", "city": "Ort", "email": "E-post", "phone": "Telefon",
           "bankgiro": "Bankgiro", "name": "Företagets namn", "save": "Spara", "bad_postal": "fem siffror",
           "bad_bankgiro": "Bankgironumrets sista siffra", "saved": "Företagsinställningarna är sparade",
           "renamed": "avsändarnamnet uppdaterades", "requires": "Kivra kräver adress, e-post och telefon"},
    "en": {"settings": "Company settings", "fill": "Fill them in under Company settings",
           "street": "Street address", "postal": "Postal code", "city": "City", "email": "E-mail",
           "phone": "Telephone", "bankgiro": "Bankgiro", "name": "Company name", "save": "Save",
           "bad_postal": "five digits", "bad_bankgiro": "bankgiro number's last digit",
           "saved": "The company settings are saved", "renamed": "sender name was updated",
           "requires": "Kivra requires the address, e-mail and telephone"},
}


def without_contact_details_and_registered_with_kivra(app) -> tuple[int, str]:
    """Demo AB as a company that signed up would be: Kivra approved, registered, no address, e-mail or phone yet."""
    with app.app_context():
        company = db.session.query(Company).one()
        admin = db.session.query(User).filter_by(role="admin").first()
        company.street_address = company.postal_code = company.city = company.email = company.phone = None
        db.session.commit()
        agreement.approve(company, admin)
        onboarding.register(company, kivra_client())
        run_id, tenant_key = db.session.query(PayrollRun.id).scalar(), onboarding.tenant_key(company.id)
        db.session.remove()
    return run_id, tenant_key


def test_the_send_steps_warning_leads_to_the_settings_which_rename_the_kivra_tenant(live_app, signed_in, lang,
                                                                                      sandbox):
    app, live_url = live_app
    words, page = TEXT[lang], signed_in
    run_id, tenant_key = without_contact_details_and_registered_with_kivra(app)
    page.goto(f"{live_url}/runs/{run_id}/send-and-post")
    warning = page.get_by_role("alert").filter(has_text=words["fill"])
    expect(warning).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/company-settings-send-step-warning-{lang}.png", full_page=True)

    warning.get_by_role("link", name=words["fill"]).click()
    expect(page.get_by_role("heading", name=words["settings"])).to_be_visible()
    expect(page.get_by_text(words["requires"])).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/company-settings-empty-{lang}.png", full_page=True)

    page.get_by_label(words["street"]).fill("Storgatan 1")
    page.get_by_label(words["postal"]).fill("1112")
    page.get_by_label(words["city"]).fill("Stockholm")
    page.get_by_label(words["email"]).fill("lon@demo.se")
    page.get_by_label(words["phone"]).fill("08-123 456 78")
    page.get_by_label(words["bankgiro"], exact=True).fill("5050-1056")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#postal_code-error")).to_contain_text(words["bad_postal"])
    expect(page.locator("#bankgiro-error")).to_contain_text(words["bad_bankgiro"])
    expect(page.get_by_label(words["postal"])).to_have_value("1112")  # as typed
    page.screenshot(path=f"{SCREENSHOTS}/company-settings-errors-{lang}.png", full_page=True)

    page.get_by_label(words["postal"]).fill("11122")
    page.get_by_label(words["bankgiro"], exact=True).fill("5050-1055")
    page.get_by_label(words["name"]).fill("Demo Nord AB")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    expect(page.get_by_label(words["postal"])).to_have_value("111 22")
    expect(page.get_by_text(words["renamed"])).to_be_visible(timeout=20_000)  # the worker told Kivra; htmx polled
    page.screenshot(path=f"{SCREENSHOTS}/company-settings-saved-{lang}.png", full_page=True)
    assert sandbox.state.tenants[tenant_key].name == "Demo Nord AB"
