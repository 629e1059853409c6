"""Användare: the company's users, invitations, roles, deactivation and the history of changes. Admins only; the
invitation's choose-password page is public (the link is the key)."""
from flask import abort, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from kivra.accounts import users
from kivra.accounts.models import User, UserAction
from kivra.extensions import db
from kivra.mail.links import LinkError
from kivra.web import is_htmx, redirect_to, render
from kivra.web.forms import MIN_PASSWORD_LENGTH, ChoosePasswordForm, words_about
from kivra.web.signin import sign_in
from kivra.web.users import bp
from kivra.web.users.forms import ROLE_LABELS, ActionForm, InviteForm, RoleForm

PAGE = "users/index.html"


@bp.before_request
def _admins_only():
    """Every page and fragment here, but the invitation's own page, is an admin's."""
    if request.endpoint != "users.invitation" and not current_user.is_admin:
        abort(403)


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.company_id != current_user.company_id:
        abort(404)
    return user


def _page(form: InviteForm | None = None, **extra) -> dict:
    company_users = users.users_of(current_user.company_id)
    return dict(users=company_users, states={user.id: users.state_of(user) for user in company_users},
                history=users.history(current_user.company_id), form=form or InviteForm(formdata=None),
                role_labels=ROLE_LABELS, role_word=users.role_in_sentence, UserState=users.UserState,
                UserAction=UserAction, days=users.VALID_FOR.days, **extra)


@bp.get("")
def index():
    return render(PAGE, **_page())


@bp.post("/invite")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = users.invite(current_user, form.name.data, form.email.data, form.role.data)
        except users.EmailTaken:
            form.email.errors.append(_("Another user already has this e-mail address."))
        else:
            _said_invited(invitation)
            return redirect_to(url_for("users.index"))
    return render(PAGE, "invite_form", status=422, **_page(form))


def _said_invited(invitation: users.Invitation) -> None:
    user = invitation.user
    if invitation.email is None:
        flash(_("E-mail is turned off in this installation, so no invitation was sent. Give %(name)s this link for "
                "choosing a password; it works once, for %(days)d days: %(link)s", name=user.name,
                days=users.VALID_FOR.days, link=invitation.link), "info")
    else:
        flash(_("The invitation to %(email)s is queued and goes out within a minute.", email=user.email), "success")


@bp.post("/<int:user_id>/resend")
def resend(user_id: int):
    user = _get_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        _said_invited(users.resend(current_user, user))
    except users.UserChanged:
        flash(_("%(name)s is not waiting for an invitation, so none was sent.", name=user.name), "error")
        return _after_change(409)
    return _after_change()


@bp.post("/<int:user_id>/role")
def change_role(user_id: int):
    user = _get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    before = user.role
    try:
        changed = users.change_role(current_user, user, form.role.data)
    except users.LastAdmin:
        flash(_("%(name)s is the company's last active administrator and must stay one. Make someone else an "
                "administrator first.", name=user.name), "error")
        return _after_change(409)
    except users.UserChanged:
        return _changed_meanwhile(user)
    if changed:
        flash(_("%(name)s is now %(role)s (was %(before)s).", name=user.name, role=users.role_in_sentence(user.role),
                before=users.role_in_sentence(before)), "success")
    if user.id == current_user.id and not current_user.is_admin:
        return redirect_to(url_for("payroll.runs"))  # no longer theirs to see
    return _after_change()


@bp.post("/<int:user_id>/deactivate")
def deactivate(user_id: int):
    user = _get_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    myself = user.id == current_user.id
    try:
        users.deactivate(current_user, user)
    except users.LastAdmin:
        flash(_("%(name)s is the company's last active administrator and cannot be deactivated. Make someone else an "
                "administrator first.", name=user.name), "error")
        return _after_change(409)
    except users.UserChanged:
        return _changed_meanwhile(user)
    if myself:
        session["locale"] = current_user.locale  # the sign-in page goes on in their language
        logout_user()
        flash(_("Your account is deactivated, and you are logged out."), "success")
        return redirect_to(url_for("accounts.login"))
    flash(_("%(name)s is deactivated: they cannot log in, and every session of theirs has ended.", name=user.name),
          "success")
    return _after_change()


@bp.post("/<int:user_id>/reactivate")
def reactivate(user_id: int):
    user = _get_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if users.reactivate(current_user, user):
        if users.state_of(user) == users.UserState.INVITED:
            flash(_("%(name)s is active again. Send a new invitation so they can choose a password.", name=user.name),
                  "success")
        else:
            flash(_("%(name)s is active again and can log in.", name=user.name), "success")
    return _after_change()


def _changed_meanwhile(user: User):
    flash(_("Someone changed %(name)s meanwhile; nothing was changed. The list shows how it stands now.",
            name=user.name), "error")
    return _after_change(409)


def _after_change(status: int = 200):
    """htmx: the list and history as they stand, with what happened; a plain form: back to the page."""
    if is_htmx():
        return render(PAGE, "users_list", status=status, **_page())
    return redirect(url_for("users.index"), code=303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        user = users.open_invitation(token)
    except LinkError as error:
        return _unusable(error)
    session.setdefault("locale", user.locale)  # the language the invitation was written in, unless one was chosen
    form = ChoosePasswordForm(words_about_the_person=words_about(user))
    if form.validate_on_submit():
        try:
            user = users.accept(token, form.password.data)
        except LinkError as error:  # used in another tab meanwhile
            return _unusable(error)
        sign_in(user)
        flash(_("Your password is saved. Welcome to %(company)s!", company=user.company.name), "success")
        return redirect_to(url_for("accounts.index"))
    response = make_response(render("users/invitation.html", "choose_password", status=422 if form.errors else 200,
                                    form=form, user=user, min_length=MIN_PASSWORD_LENGTH,
                                    role=users.role_in_sentence(user.role), inviter=users.inviter_of(user)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _unusable(error: LinkError):
    return render("users/invitation.html", "choose_password", status=410, reason=error.reason,
                  days=users.VALID_FOR.days)
