"""Small things a Swedish payroll administrator notices (issue 18.11): the tab's icon, English dates written the British
way used in Sweden, button names quoted in running text."""
from datetime import date, datetime

from flask_babel import force_locale

from kivra.locales import babel_locale
from kivra.web.i18n import day_month, long_date
from tests.conftest import text


def test_every_page_has_an_icon_served_from_static(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    icon.close()


def test_english_dates_are_british_and_swedish_ones_swedish(app, lang):
    with app.test_request_context(), force_locale(babel_locale(lang)):
        assert long_date(date(2026, 11, 25)) == {"sv": "25 november 2026", "en": "25 November 2026"}[lang]
        assert day_month(datetime(2026, 11, 25, 7)) == {"sv": "25 nov.", "en": "25 Nov"}[lang]


def test_the_run_page_writes_its_payout_date_in_the_users_language(as_admin, run, lang):
    shown = text(as_admin.get(f"/runs/{run.id}"))
    assert {"sv": "Utbetalningsdag: 25 november 2026", "en": "Payout date: 25 November 2026"}[lang] in shown
    assert "November 25, 2026" not in shown
