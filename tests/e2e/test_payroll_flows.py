"""Every flow of the foundation in a real browser, in Swedish and in English."""
import io
import re
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

SCREENSHOTS = "test-artifacts"


def save_pdf_and_png(content: bytes, name: str) -> None:
    """The PDF among the screenshots, and as a PNG where poppler's pdftoppm is installed, to look at."""
    path = Path(SCREENSHOTS) / f"{name}.pdf"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", path, path.with_suffix("")], check=True)


def add_employee(page, words, name, personnummer, salary="31 250"):
    """From the menu, the new-employee form filled in and saved."""
    page.get_by_role("link", name=words["employees"], exact=True).click()
    page.get_by_role("link", name=words["add_employee"]).click()
    page.get_by_label(words["name"], exact=True).fill(name)
    page.get_by_label(words["personnummer"]).fill(personnummer)
    page.get_by_label(words["start"]).fill("2024-02-01")
    page.get_by_label(words["salary"]).fill(salary)
    page.get_by_label(words["tax"]).fill("31")
    page.get_by_role("button", name=words["save"]).click()


def test_add_employee_with_a_bad_personnummer_then_fix_it(signed_in, words, lang):
    page = signed_in
    add_employee(page, words, 'Zoë "Zed" <b>Öström</b>', "19770103-2381", salary="31 250,50")

    error = page.locator("#personnummer-error")
    expect(error).to_contain_text(words["check_digit"])
    expect(page.get_by_label(words["personnummer"])).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(words["name"], exact=True)).to_have_value('Zoë "Zed" <b>Öström</b>')  # nothing lost
    page.screenshot(path=f"{SCREENSHOTS}/employee-error-{lang}.png", full_page=True)

    page.get_by_label(words["personnummer"]).fill("19770103-2380")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    row = page.get_by_role("row").filter(has_text='Zoë "Zed" <b>Öström</b>')
    expect(row).to_contain_text("19770103-****")
    expect(row).to_contain_text({"sv": "31 250,50 kr", "en": "SEK 31,250.50"}[lang])
    page.screenshot(path=f"{SCREENSHOTS}/employees-{lang}.png", full_page=True)
    # A register, not a cramped table: at 1280 px it fits the window, one line per employee.
    assert page.viewport_size["width"] == 1280
    assert page.locator(".table-scroll").evaluate("el => el.scrollWidth <= el.clientWidth")
    for name in ("Astrid Lindqvist", "David Nilsson"):  # David has no e-mail address: "No e-mail address" instead
        assert page.get_by_role("row").filter(has_text=name).bounding_box()["height"] < 45


def test_a_birth_number_000_and_a_short_form_with_a_space_are_refused_with_the_reason(signed_in, words, lang):
    page = signed_in
    add_employee(page, words, "Greta Gammal", "090527 1474")
    expect(page.locator("#personnummer-error")).to_contain_text(
        {"sv": "säger ett mellanslag inte vilket århundrade", "en": "a space does not say which century"}[lang])
    expect(page.get_by_label(words["personnummer"])).to_have_value("090527 1474")  # what was typed stays
    page.screenshot(path=f"{SCREENSHOTS}/employee-space-{lang}.png", full_page=True)

    page.get_by_label(words["personnummer"]).fill("20150916-0006")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#personnummer-error")).to_contain_text(
        {"sv": "kan inte vara 000", "en": "cannot be 000"}[lang])
    page.screenshot(path=f"{SCREENSHOTS}/employee-serial-000-{lang}.png", full_page=True)

    page.get_by_label(words["personnummer"]).fill("090527+1474")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("row").filter(has_text="Greta Gammal")).to_contain_text("19090527-****")


def test_create_run_open_payslip_pdf_and_post_the_voucher(signed_in, words, lang, live_url):
    page = signed_in
    page.get_by_label(words["month"]).fill("2030-01")
    page.get_by_label(words["payout"]).fill("2030-01-25")
    page.get_by_role("button", name=words["create_run"]).click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text({"sv": "januari 2030", "en": "January 2030"}[lang])

    page.get_by_role("link", name="Astrid Lindqvist").click()
    page.get_by_label(words["description"]).fill("Övertid")
    page.get_by_label(words["amount"]).fill("1 000")
    page.get_by_role("button", name=words["add_line"]).click()
    expect(page.locator("#payslip_lines")).to_contain_text("Övertid")
    net = page.get_by_test_id("net").inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/payslip-{lang}.png", full_page=True)

    page.get_by_role("link", name=re.compile("2030", re.I)).first.click()
    page.get_by_role("button", name=words["calculate"]).click()
    page.wait_for_url(re.compile(r"/send-and-post$"))
    expect(page.get_by_role("button", name=words["send"])).to_be_enabled()
    page.get_by_role("button", name=words["post"]).click()
    expect(page.locator("#voucher")).to_contain_text(words["posted"])
    expect(page.get_by_role("button", name=words["post"])).to_have_count(0)
    expect(page.locator("#run_status")).to_contain_text({"sv": "Bokförd", "en": "Posted"}[lang])
    expect(page.get_by_role("link", name=words["sie"])).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/send-and-post-{lang}.png", full_page=True)

    page.get_by_role("link", name="1. ").click()
    page.get_by_role("link", name="Astrid Lindqvist").click()
    link = page.get_by_role("link", name=words["pdf"])
    with page.context.expect_page() as opened:
        link.click()
    pdf_page = opened.value
    response = page.request.get(live_url + link.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.body())).pages[0].extract_text().replace("\xa0", " ")
    swedish_net = net.replace("SEK", "").replace(",", " ").replace(".", ",").strip() + " kr" if lang == "en" else net
    assert swedish_net.replace("\xa0", " ") in text
    # The employer as on a letter, the month and payout day, the year so far (this run is 2030's first: its own net
    # again), the employer's contact at the foot; one page. The same document in both languages.
    for part in ("Org.nr / Org. no. 556840-2266", "Demo AB | Storgatan 1, 111 22 Stockholm", "januari 2030",
                 "Utbetalningsdag / Payout date 2030-01-25", "Hittills i år / Year to date",
                 "E-post / E-mail lon@demo.se | Telefon / Telephone 08-123 456 00"):
        assert part in text, part
    assert text.count(swedish_net.replace("\xa0", " ")) == 2
    assert len(PdfReader(io.BytesIO(response.body())).pages) == 1
    save_pdf_and_png(response.body(), f"payslip-pdf-{lang}")
    pdf_page.close()

    page.go_back()
    page.get_by_role("link", name="Björn Åkesson").click()
    href = page.get_by_role("link", name=words["pdf"]).get_attribute("href")
    text = PdfReader(io.BytesIO(page.request.get(live_url + href).body())).pages[0].extract_text()
    assert "**** 7919" in text and "9400007919" not in text  # the bank account masked: its last four digits


def test_language_switch_persists_and_navigation_works(signed_in, words, lang, live_url):
    page = signed_in
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.get_by_role("link", name=words["more"]).click()
    expect(page.get_by_role("heading", name="Kivra")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/solutions-{lang}.png", full_page=True)
    other = "en" if lang == "sv" else "sv"
    page.get_by_role("button", name={"sv": "Svenska", "en": "English"}[other]).click()
    expect(page.locator("html")).to_have_attribute("lang", other)
    expect(page).to_have_url(re.compile(r"/solutions$"))
    page.goto(f"{live_url}/runs")
    expect(page.locator("html")).to_have_attribute("lang", other)


def test_after_ten_wrong_passwords_the_login_says_to_wait(page, live_url, words, lang):
    page.goto(f"{live_url}/login")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    for attempt in range(11):
        page.get_by_label(words["email"]).fill("admin@demo.se")
        page.get_by_label(words["password"]).fill("demo-admin" if attempt == 10 else f"guess-{attempt}")
        page.get_by_role("button", name=words["login"]).click()
        expect(page.locator("#login_form")).to_contain_text(words["wait" if attempt == 10 else "wrong_password"])
    expect(page).to_have_url(f"{live_url}/login")  # even the right password waits
    expect(page.get_by_label(words["email"])).to_have_value("admin@demo.se")  # what was typed is kept
    page.screenshot(path=f"{SCREENSHOTS}/login-throttled-{lang}.png", full_page=True)
