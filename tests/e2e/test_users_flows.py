"""Användare in a browser, Swedish and English: the admin invites a colleague (a mistake first), the e-mail arrives in
the dev mailbox, its link leads to choosing a password and into the company; the admin deactivates and changes roles,
and the history says who did what."""
from playwright.sync_api import expect

from tests.e2e.test_mail_flows import open_mail, wait_for_mail

SCREENSHOTS = "test-artifacts"
USERS = {
    "sv": {"users": "Användare", "name": "Namn", "email": "E-post", "role": "Roll", "send": "Skicka inbjudan",
           "taken": "En annan användare har redan den här e-postadressen.", "queued": "ligger i kö",
           "subject": "Anna Admin bjuder in dig till Demo AB i Lön", "choose": "Välj lösenord",
           "password": "Nytt lösenord", "repeat": "Upprepa lösenordet", "save": "Spara lösenordet och logga in",
           "welcome": "Välkommen till Demo AB!", "payroll_role": "Lönehandläggare",
           "deactivate": "Avaktivera Lars Lönesson", "deactivated": "Lars Lönesson är avaktiverad",
           "role_of": "Roll för Greta Ny", "change_role": "Ändra roll Greta Ny", "admin_role": "Administratör",
           "changed": "Anna Admin ändrade Greta Ny från lönehandläggare till administratör",
           "joined": "Greta Ny valde ett lösenord och gick med"},
    "en": {"users": "Users", "name": "Name", "email": "E-mail", "role": "Role", "send": "Send invitation",
           "taken": "Another user already has this e-mail address.", "queued": "is queued",
           "subject": "Anna Admin invites you to Demo AB in Payroll", "choose": "Choose password",
           "password": "New password", "repeat": "Repeat the password", "save": "Save password and log in",
           "welcome": "Welcome to Demo AB!", "payroll_role": "Payroll administrator",
           "deactivate": "Deactivate Lars Lönesson", "deactivated": "Lars Lönesson is deactivated",
           "role_of": "Role of Greta Ny", "change_role": "Change role Greta Ny", "admin_role": "Administrator",
           "changed": "Anna Admin changed Greta Ny from payroll administrator to administrator",
           "joined": "Greta Ny chose a password and joined"},
}


def invite(page, say, name: str, email: str) -> None:
    form = page.locator("#invite_form")
    form.get_by_label(say["name"]).fill(name)
    form.get_by_label(say["email"]).fill(email)
    form.get_by_label(say["role"]).select_option(label=say["payroll_role"])
    form.get_by_role("button", name=say["send"]).click()


def test_an_admin_invites_a_colleague_who_joins_and_manages_users(signed_in, browser, live_app, mailbox, lang):
    say = USERS[lang]
    page = signed_in
    page.get_by_role("link", name=say["users"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say["users"])

    invite(page, say, "Greta Ny", "lon@demo.se")  # Lars's address: refused, what was typed stays
    expect(page.get_by_text(say["taken"])).to_be_visible()
    expect(page.locator("#invite_form").get_by_label(say["name"])).to_have_value("Greta Ny")
    page.screenshot(path=f"{SCREENSHOTS}/users-invite-error-{lang}.png", full_page=True)

    page.locator("#invite_form").get_by_label(say["email"]).fill("greta@demo.se")
    page.locator("#invite_form").get_by_role("button", name=say["send"]).click()
    expect(page.get_by_text(say["queued"])).to_be_visible()
    wait_for_mail(mailbox, "greta@demo.se", 1)
    greta = browser.new_context(locale="sv-SE").new_page()
    open_mail(greta, mailbox, say["subject"])
    greta.get_by_role("link", name="/users/invitation/").click()
    expect(greta.get_by_role("heading", level=1)).to_have_text(say["choose"])
    greta.screenshot(path=f"{SCREENSHOTS}/users-choose-password-{lang}.png", full_page=True)
    greta.get_by_label(say["password"]).fill("gretas own password")
    greta.get_by_label(say["repeat"]).fill("gretas own password")
    greta.get_by_role("button", name=say["save"]).click()
    expect(greta.get_by_text(say["welcome"])).to_be_visible()

    page.reload()
    invite(page, say, "Hugo Väntar", "hugo@demo.se")  # stays invited
    expect(page.get_by_role("cell", name="hugo@demo.se")).to_be_visible()
    page.get_by_role("button", name=say["deactivate"]).click()
    expect(page.get_by_text(say["deactivated"])).to_be_visible()
    page.get_by_label(say["role_of"], exact=True).select_option(label=say["admin_role"])
    page.get_by_role("button", name=say["change_role"]).click()
    history = page.locator("#user_history")
    expect(history).to_contain_text(say["changed"])
    expect(history).to_contain_text(say["joined"])
    page.screenshot(path=f"{SCREENSHOTS}/users-{lang}.png", full_page=True)
