"""Användare: an admin invites a colleague by e-mail (a real SMTP server, kivra.mailbox), who chooses a password from
the link and is signed in with the role given; resend, deactivate (every session of theirs ends), reactivate, change
role; the last active admin stays; every change listed with who and when. Payroll users are refused, other companies'
users are not found. Page and htmx, Swedish and English; the last-admin race on SQLite and PostgreSQL."""
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text as sql

from kivra.accounts import users
from kivra.accounts.models import User, UserAction, UserChange
from kivra.extensions import db
from kivra.mail import delivery, links
from kivra.mail.models import MailKind, OutboundEmail
from kivra.mailbox import start_in_thread as start_mailbox
from tests.conftest import PASSWORD, Client, make_user, text

pytestmark = pytest.mark.both_databases

PUBLIC = "https://lon.example.se"
LINK = re.compile(re.escape(PUBLIC) + r"(/users/invitation/[\w.-]+)")
NEW_PASSWORD = "a long new password"
WORDS = {
    "sv": {"users": "Användare", "admin": "Administratör", "payroll": "Lönehandläggare", "active": "Aktiv",
           "invited": "Inbjuden", "deactivated": "Avaktiverad", "not_allowed": "Din roll tillåter inte detta",
           "not_found": "ett annat företag", "taken": "En annan användare har redan den här e-postadressen",
           "bad_email": "Ange en giltig e-postadress", "no_name": "Ange namnet på den du bjuder in",
           "no_email": "Ange e-postadressen som inbjudan ska skickas till", "queued": "ligger i kö",
           "last_demote": "sista aktiva administratör och måste förbli det",
           "last_deactivate": "sista aktiva administratör och kan inte avaktiveras",
           "wrong": "Fel e-postadress eller lösenord", "subject": "bjuder in dig till", "choose": "Välj lösenord",
           "used": "redan använts", "welcome": "Välkommen till Demo AB",
           "changed": "Anna Admin ändrade Lars Lön från lönehandläggare till administratör",
           "invited_line": "Anna Admin bjöd in Greta Ny som lönehandläggare",
           "resent_line": "Anna Admin skickade en ny inbjudan till Greta Ny",
           "joined_line": "Greta Ny valde ett lösenord och gick med",
           "deactivated_line": "Anna Admin avaktiverade Lars Lön", "reactivated_line": "Anna Admin återaktiverade Lars Lön",
           "signed_out": "du är utloggad"},
    "en": {"users": "Users", "admin": "Administrator", "payroll": "Payroll administrator", "active": "Active",
           "invited": "Invited", "deactivated": "Deactivated", "not_allowed": "Your role does not allow this",
           "not_found": "belongs to another company", "taken": "Another user already has this e-mail address",
           "bad_email": "Enter a valid e-mail address", "no_name": "Enter the name of the person you invite",
           "no_email": "Enter the e-mail address to send the invitation to", "queued": "is queued",
           "last_demote": "last active administrator and must stay one",
           "last_deactivate": "last active administrator and cannot be deactivated",
           "wrong": "Wrong e-mail address or password", "subject": "invites you to", "choose": "Choose password",
           "used": "already been used", "welcome": "Welcome to Demo AB",
           "changed": "Anna Admin changed Lars Lön from payroll administrator to administrator",
           "invited_line": "Anna Admin invited Greta Ny as payroll administrator",
           "resent_line": "Anna Admin sent a new invitation to Greta Ny",
           "joined_line": "Greta Ny chose a password and joined",
           "deactivated_line": "Anna Admin deactivated Lars Lön", "reactivated_line": "Anna Admin reactivated Lars Lön",
           "signed_out": "you are logged out"},
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def mailbox(app):
    with start_mailbox() as mailbox:
        app.config.update(SMTP_URL=mailbox.smtp_url, PUBLIC_URL=PUBLIC, MAIL_RETRY_SECONDS=0.05,
                          MAIL_RETRY_CAP_SECONDS=0.2)
        yield mailbox


@pytest.fixture
def anna(company, lang):
    return named(make_user(company, "admin", email="anna@demo.se", locale=lang), "Anna Admin")


@pytest.fixture
def lars(company, lang):
    return named(make_user(company, "payroll", email="lars@demo.se", locale=lang), "Lars Lön")


@pytest.fixture
def as_anna(client, anna):
    return client.login(anna)


def named(user: User, name: str) -> User:
    user.name = name
    db.session.commit()
    return user


def browser(app) -> Client:
    return Client(app.test_client())


def deliver(app) -> int:
    with app.app_context():
        return delivery.drain()


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def changes(user: User) -> list[tuple[str, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(UserChange).where(UserChange.user_id == user.id).order_by(UserChange.id))
    return [(change.action, change.detail) for change in rows]


def invite(as_user, htmx=False, **fields):
    data = {"name": "Greta Ny", "email": "greta@demo.se", "role": "payroll", **fields}
    return as_user.post("/users/invite", data, htmx=htmx)


def accept(app, path: str, password=NEW_PASSWORD):
    """The invitee's browser: open the link, choose a password."""
    invitee = browser(app)
    page = invitee.get(path)
    assert page.status_code == 200, page.status_code
    invitee.token = Client.csrf_from(page)
    return invitee, invitee.post(path, {"password": password, "confirm": password})


def invited(app, mailbox, address="greta@demo.se") -> str:
    """The path of the link in the newest invitation that reached the mailbox for `address`."""
    deliver(app)
    return LINK.search(mailbox.messages(to=address)[-1].body).group(1)


# --- the page -----------------------------------------------------------------------------------------------------

def test_the_page_lists_users_with_their_state_and_the_history_newest_first(app, as_anna, anna, lars, company, words):
    greta = users.invite(anna, "Greta Ny", "greta@demo.se", "payroll").user
    users.change_role(anna, lars, "admin")
    users.deactivate(anna, lars)
    db.session.add(UserChange(company_id=company.id, actor_id=anna.id, actor_name="Anna Admin", user_id=greta.id,
                              action=UserAction.INVITATION_RESENT,
                              created_at=datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)))
    db.session.commit()
    page = text(as_anna.get("/users"))
    assert words["users"] in page and "greta@demo.se" in page and "lars@demo.se" in page
    today = datetime.now(timezone.utc).astimezone().date().isoformat()
    assert f'{words["invited"]} {today[:4]}' in page and f'{words["deactivated"]} {today[:4]}' in page
    assert words["active"] in page
    newest_first = [words["deactivated_line"], words["changed"], words["invited_line"], words["resent_line"]]
    assert [page.index(line) for line in newest_first] == sorted(page.index(line) for line in newest_first)
    assert f"2026-07-01 12:00 {words['resent_line']}" in page  # Swedish summer time, however the server runs


def test_the_nav_has_users_for_admins_only(app, client, anna, lars, words):
    link = 'href="/users"'
    assert link in browser(app).login(anna).get("/runs").get_data(as_text=True)
    assert link not in browser(app).login(lars).get("/runs").get_data(as_text=True)


# --- inviting -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("htmx", "role"), [(False, "payroll"), (True, "admin")])
def test_an_invitation_arrives_and_its_link_signs_the_new_user_in_with_the_role(app, mailbox, as_anna, anna, words,
                                                                               lang, htmx, role):
    response = invite(as_anna, htmx=htmx, role=role)
    assert (response.status_code, response.headers.get("HX-Redirect")) == ((204, "/users") if htmx else (303, None))
    greta = db.session.scalar(select(User).where(User.email == "greta@demo.se"))
    assert greta.password_hash is None and greta.invited_by_id == anna.id and greta.invitation_hash
    assert words["queued"] in text(as_anna.get("/users"))

    assert deliver(app) == 1
    [message] = mailbox.messages(to="greta@demo.se")
    assert words["subject"] in message.subject and "Demo AB" in message.subject  # the inviter's language
    assert "Greta Ny" in message.body
    path = LINK.search(message.body).group(1)

    invitee, done = accept(app, path)
    assert done.status_code == 303
    landing = invitee.get("/runs", follow_redirects=True)
    assert landing.status_code == 200 and words["welcome"] in text(landing)
    assert (invitee.get("/users").status_code == 200) is (role == "admin")
    greta = fresh(greta)
    assert greta.role == role and greta.invitation_hash is None and greta.email_confirmed_at is not None
    assert changes(greta) == [(UserAction.INVITED, role), (UserAction.JOINED, None)]
    assert f'{words["joined_line"]}' in text(as_anna.get("/users"))
    # The link works once; the password chosen signs in from then on.
    assert browser(app).get(path).status_code == 410
    assert words["used"] in text(invitee.get(path))
    browser(app).login(greta, NEW_PASSWORD)


@pytest.mark.parametrize("htmx", [False, True])
def test_invitation_mistakes_are_said_in_the_language_and_what_was_typed_stays(app, as_anna, other_company, words,
                                                                               htmx):
    make_user(other_company, "payroll", email="Taken@Annat.se")
    cases = [({"name": "", "email": ""}, [words["no_name"], words["no_email"]]),
             ({"email": "not-an-address"}, [words["bad_email"]]),
             ({"email": " taken@annat.SE "}, [words["taken"]])]
    for fields, messages in cases:
        response = invite(as_anna, htmx=htmx, **fields)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert ('id="invite_form"' in body) and (("<html" in body) is not htmx)
        for message in messages:
            assert message in text(response), (fields, message)
        if fields.get("name", "Greta Ny"):
            assert 'value="Greta Ny"' in body and f'value="{fields["email"].strip()}"' in body
    assert db.session.scalar(select(User).where(User.name == "Greta Ny")) is None


def test_a_resent_invitation_replaces_the_link(app, mailbox, as_anna, words):
    invite(as_anna)
    first = invited(app, mailbox)
    greta = db.session.scalar(select(User).where(User.email == "greta@demo.se"))
    response = as_anna.post(f"/users/{greta.id}/resend")
    assert response.status_code == 303
    second = invited(app, mailbox)
    assert first != second and len(mailbox.messages(to="greta@demo.se")) == 2
    assert browser(app).get(first).status_code == 410  # the old link stopped working
    assert accept(app, second)[1].status_code == 303
    assert changes(greta)[:2] == [(UserAction.INVITED, "payroll"), (UserAction.INVITATION_RESENT, None)]
    assert words["resent_line"] in text(as_anna.get("/users"))
    # Joined: nothing left to resend.
    assert as_anna.post(f"/users/{greta.id}/resend", htmx=True).status_code == 409


def test_an_invitation_expires_after_seven_days(app, mailbox, as_anna, monkeypatch):
    issued = links.clock()
    monkeypatch.setattr(links, "clock", lambda: issued)  # signed at `issued`, however long the request takes
    invite(as_anna)
    path = invited(app, mailbox)
    monkeypatch.setattr(links, "clock", lambda: issued + timedelta(days=7, seconds=1).total_seconds())
    assert browser(app).get(path).status_code == 410


# --- deactivating, reactivating, roles -----------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_deactivating_ends_every_session_and_sign_in_is_refused_like_a_wrong_password(app, as_anna, lars, words, lang,
                                                                                     htmx):
    larss = browser(app).login(lars)
    assert larss.get("/runs").status_code == 200
    response = as_anna.post(f"/users/{lars.id}/deactivate", htmx=htmx)
    if htmx:
        assert response.status_code == 200 and 'id="users_list"' in response.get_data(as_text=True)
        assert words["deactivated_line"] in text(response)
    else:
        assert response.status_code == 303
    assert fresh(lars).deactivated_at is not None
    assert larss.get("/runs").status_code == 302  # at once, not at the session's end
    assert larss.get("/runs", htmx=True).status_code == 401

    refused = browser(app)
    refused.token = Client.csrf_from(refused.raw.get("/login"))
    refused.post("/language", {"locale": lang, "next": "/login"})
    deactivated = refused.post("/login", {"email": lars.email, "password": PASSWORD})
    wrong = refused.post("/login", {"email": "anna@demo.se", "password": "not the password"})
    assert deactivated.status_code == wrong.status_code == 422
    assert words["wrong"] in text(deactivated) and text(deactivated) == text(wrong).replace("anna@demo.se", lars.email)

    assert as_anna.post(f"/users/{lars.id}/reactivate", htmx=htmx).status_code in (200, 303)
    browser(app).login(lars)
    assert [action for action, _ in changes(lars)] == [UserAction.DEACTIVATED, UserAction.REACTIVATED]
    assert words["reactivated_line"] in text(as_anna.get("/users"))


@pytest.mark.parametrize("htmx", [False, True])
def test_changing_a_role_is_recorded_with_before_and_after(app, as_anna, lars, words, htmx):
    larss = browser(app).login(lars)
    assert larss.get("/users").status_code == 403
    response = as_anna.post(f"/users/{lars.id}/role", {"role": "admin"}, htmx=htmx)
    assert response.status_code == (200 if htmx else 303)
    assert fresh(lars).role == "admin" and changes(lars) == [(UserAction.ROLE_CHANGED, "payroll admin")]
    assert larss.get("/users").status_code == 200  # the same session, the new role
    assert words["changed"] in text(as_anna.get("/users"))


@pytest.mark.parametrize("htmx", [False, True])
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, as_anna, anna, lars, words, htmx):
    users.invite(anna, "Greta Ny", "greta@demo.se", "admin")  # an admin who has not joined does not count
    for action, data, message in (("role", {"role": "payroll"}, "last_demote"), ("deactivate", {}, "last_deactivate")):
        response = as_anna.post(f"/users/{anna.id}/{action}", data, htmx=htmx)
        if htmx:
            assert response.status_code == 409 and words[message] in text(response)
        else:
            assert response.status_code == 303 and words[message] in text(as_anna.get("/users"))
    anna = fresh(anna)
    assert anna.role == "admin" and anna.deactivated_at is None and changes(anna) == []
    assert as_anna.get("/users").status_code == 200  # still signed in


def test_an_admin_who_is_not_the_last_may_deactivate_themself_and_is_signed_out(app, as_anna, anna, lars, words):
    users.change_role(anna, lars, "admin")
    response = as_anna.post(f"/users/{anna.id}/deactivate")
    assert response.status_code == 303 and response.location == "/login"
    assert words["signed_out"] in text(as_anna.raw.get("/login"))
    assert as_anna.get("/runs").status_code == 302
    assert fresh(anna).deactivated_at is not None


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, database, company, anna, lars, monkeypatch):
    """Anna demotes Lars while Lars demotes Anna, each in a transaction of their own; Anna's has changed the row
    and waits before committing when Lars's starts. Lars's must wait for it, then find he would leave none."""
    users.change_role(anna, lars, "admin")
    anna_id, lars_id = anna.id, lars.id
    paused, release, outcomes = threading.Event(), threading.Event(), {}
    record = users._record

    def record_slowly(actor, user, action, detail=None):
        if threading.current_thread().name == "anna":
            paused.set()
            release.wait(30)
        record(actor, user, action, detail)

    monkeypatch.setattr(users, "_record", record_slowly)

    def demote(actor_id, target_id):
        with app.app_context():
            try:
                users.change_role(db.session.get(User, actor_id), db.session.get(User, target_id), "payroll")
                outcomes[actor_id] = "demoted"
            except users.LastAdmin:
                outcomes[actor_id] = "refused"
            finally:
                db.session.remove()

    first = threading.Thread(target=demote, args=(anna_id, lars_id), name="anna")
    second = threading.Thread(target=demote, args=(lars_id, anna_id), name="lars")
    first.start()
    assert paused.wait(10)
    second.start()
    if database == "postgresql":  # Lars's transaction waits for the company's row
        deadline = datetime.now() + timedelta(seconds=10)
        while not db.session.scalar(sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")):
            assert datetime.now() < deadline, "the second demotion did not wait for the first"
            db.session.rollback()
    second.join(0.5)
    assert second.is_alive()  # it cannot decide before the first has committed
    release.set()
    first.join(30)
    second.join(30)
    assert outcomes == {anna_id: "demoted", lars_id: "refused"}
    db.session.expire_all()
    admins = db.session.scalars(select(User.name).where(User.company_id == company.id, User.role == "admin")).all()
    assert admins == ["Anna Admin"]


# --- who may see what -----------------------------------------------------------------------------------------------

def pages(user_id: int) -> list[tuple[str, str, dict]]:
    return [("get", "/users", {}), ("post", "/users/invite", {"name": "X", "email": "x@demo.se", "role": "admin"}),
            ("post", f"/users/{user_id}/resend", {}), ("post", f"/users/{user_id}/role", {"role": "admin"}),
            ("post", f"/users/{user_id}/deactivate", {}), ("post", f"/users/{user_id}/reactivate", {})]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_payroll_user_is_refused_everywhere(app, anna, lars, words, htmx):
    larss = browser(app).login(lars)
    for method, url, data in pages(anna.id):
        response = larss.get(url, htmx=htmx) if method == "get" else larss.post(url, data, htmx=htmx)
        assert response.status_code == 403, url
        assert words["not_allowed"] in text(response), url
        assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert fresh(anna).role == "admin" and fresh(anna).deactivated_at is None
    assert db.session.scalar(select(User).where(User.email == "x@demo.se")) is None


def test_another_companys_users_are_not_found(app, as_anna, other_company, words):
    stranger = make_user(other_company, "payroll", email="stranger@annat.se")
    for method, url, data in pages(stranger.id)[2:]:
        response = as_anna.post(url, data)
        assert response.status_code == 404 and words["not_found"] in text(response), url
    assert fresh(stranger).role == "payroll" and fresh(stranger).deactivated_at is None and changes(stranger) == []


def test_a_change_without_the_form_token_changes_nothing(app, as_anna, lars):
    assert as_anna.post(f"/users/{lars.id}/deactivate", csrf=False).status_code == 400
    assert fresh(lars).deactivated_at is None
    assert db.session.scalar(select(OutboundEmail).where(OutboundEmail.kind == MailKind.USER_INVITATION)) is None
