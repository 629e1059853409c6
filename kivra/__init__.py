"""Payroll with payslips through Kivra: the application factory."""
import os

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from kivra import database_errors, logs, proxy  # noqa: F401 (database_errors: its listener)
from kivra.config import engine_options, instance_path, load_config, log_effective
from kivra.extensions import babel, csrf, db, limiter, login_manager, migrate
from kivra.resources import resource_dir
from kivra.web import i18n


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        static_url_path="/static",  # not the folder's name, which is _static in a wheel
        instance_path=instance_path(),  # INSTANCE_PATH, else instance/ beside the code (never in production)
    )
    # A test's app (TESTING in test_config) needs no environment: its settings come with test_config.
    app.config.update(load_config(app.instance_path, testing=bool(test_config and test_config.get("TESTING"))))
    if app.config["INSTANCE_PATH"]:  # none in production unless INSTANCE_PATH names one
        os.makedirs(app.instance_path, exist_ok=True)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(resource_dir("translations"))
    if test_config:
        app.config.update(test_config)
        if "SQLALCHEMY_ENGINE_OPTIONS" not in test_config:  # the options of the database it names
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    # Whatever engine options a configuration gives, no database error shows its parameters (personal data).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "hide_parameters": True}
    logs.configure(app.config)  # once per process: the first app made in it sets logging up

    proxy.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)

    from kivra import cli, health, metrics, web
    from kivra.web import blueprints, errors

    blueprints.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    errors.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    log_effective(app.config, "app")  # once per process in production (gunicorn's, a worker's, a command's)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL and a busy timeout let the web process and a worker share one SQLite file."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Many worker threads queue for SQLite's one writer: a short timeout would strand a claimed row for a lease.
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL without an fsync per commit: a power cut may undo the last commits (a row is then sent again with its
        # stored bytes, which Kivra's duplicate control keeps single); it never corrupts the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
