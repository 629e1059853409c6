import logging

import pytest

from kivra import create_app
from kivra.config import CODE_DIR, ConfigError, huey_sqlite_path, instance_path, load_config, log_effective, mask_url
from kivra.dispatch.app_queue import make_storage


def test_production_without_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), {"APP_ENV": "production"})


def test_production_is_the_default_environment(tmp_path):
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), {})


def test_development_has_safe_local_defaults(tmp_path):
    config = load_config(str(tmp_path), {"APP_ENV": "development"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/payroll.db"
    assert config["KIVRA_API_URL"].startswith("http://127.0.0.1:")
    assert config["SESSION_COOKIE_SECURE"] is False


def test_a_database_url_that_is_not_one_is_refused_without_repeating_it(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL is not a database URL") as refused:
        load_config(str(tmp_path), {"APP_ENV": "development", "DATABASE_URL": "payroll:hunter2@db"})
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("url, limited", [("sqlite:////srv/payroll.db", False), ("sqlite://", True),
                                          ("postgresql+psycopg://db/payroll", False)])
def test_a_database_file_or_server_has_no_pool_limit_of_its_own(tmp_path, url, limited):
    """A connection per thread (tests/test_databases.py); an in-memory SQLite is one connection, kept by SQLAlchemy."""
    options = load_config(str(tmp_path), {"APP_ENV": "development", "DATABASE_URL": url})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["hide_parameters"] is True
    assert ("max_overflow" not in options) is limited


def test_environment_variables_are_read(tmp_path):
    config = load_config(str(tmp_path), {
        "APP_ENV": "production", "SECRET_KEY": "s3cret-but-at-least-32-characters-long", "DATABASE_URL": "postgresql+psycopg://db/payroll",
        "REDIS_URL": "redis://queue:6379/0", "KIVRA_API_URL": "https://kivra.example", "KIVRA_CLIENT_ID": "id", "KIVRA_CLIENT_SECRET": "secret",
        "EMPLOYER_CONTRIBUTION_RATE": "10.21", "SMTP_URL": "smtp://mail.example:587", "PUBLIC_URL": "https://lon.example/",
    })
    assert (config["SMTP_URL"], config["PUBLIC_URL"]) == ("smtp://mail.example:587", "https://lon.example")
    assert config["SECRET_KEY"] == "s3cret-but-at-least-32-characters-long"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/payroll"
    assert (config["KIVRA_API_URL"], config["KIVRA_CLIENT_ID"], config["KIVRA_CLIENT_SECRET"]) == ("https://kivra.example", "id", "secret")
    assert str(config["EMPLOYER_CONTRIBUTION_RATE"]) == "10.21"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_unknown_environment_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config(str(tmp_path), {"APP_ENV": "staging", "SECRET_KEY": "x"})


def test_testing_without_secret_key_refuses_too(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), {"APP_ENV": "testing"})


PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s3cret-but-at-least-32-characters-long"}
KIVRA = {"KIVRA_API_URL": "https://kivra.example", "KIVRA_CLIENT_ID": "id", "KIVRA_CLIENT_SECRET": "secret"}


@pytest.mark.parametrize("missing", [("KIVRA_API_URL",), ("KIVRA_CLIENT_ID", "KIVRA_CLIENT_SECRET"), tuple(KIVRA)])
def test_production_without_kivra_settings_refuses_to_start_and_names_them(tmp_path, missing):
    environ = {**PRODUCTION, **{name: value for name, value in KIVRA.items() if name not in missing}}
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), environ)
    assert all(name in str(refused.value) for name in missing)
    assert not any(name in str(refused.value) for name in KIVRA if name not in missing)


def test_production_with_empty_kivra_settings_refuses_too(tmp_path):
    with pytest.raises(ConfigError, match="KIVRA_CLIENT_SECRET"):
        load_config(str(tmp_path), {**PRODUCTION, **KIVRA, "KIVRA_CLIENT_SECRET": ""})


@pytest.mark.parametrize("app_env", ["development", "testing"])
def test_development_and_testing_default_to_the_sandbox(tmp_path, app_env):
    config = load_config(str(tmp_path), {"APP_ENV": app_env, "SECRET_KEY": "x"})
    assert config["KIVRA_API_URL"] == "http://127.0.0.1:8765"
    assert (config["KIVRA_CLIENT_ID"], config["KIVRA_CLIENT_SECRET"]) == ("sandbox-client", "sandbox-secret")


def test_old_secret_keys_are_read_for_a_rotation(tmp_path):
    config = load_config(str(tmp_path), {"APP_ENV": "development", "SECRET_KEY": "new",
                                         "SECRET_KEY_FALLBACKS": "older, old"})
    assert config["SECRET_KEY_FALLBACKS"] == ["older", "old"]
    assert load_config(str(tmp_path), {"APP_ENV": "development"})["SECRET_KEY_FALLBACKS"] == []


# --- no silent fallbacks in production ----------------------------------------------------------------------------

MAIL = {"SMTP_URL": "smtp://payroll:pw@smtp.example.se:587", "PUBLIC_URL": "https://lon.example.se"}
READY = {**PRODUCTION, **KIVRA, **MAIL, "DATABASE_URL": "postgresql+psycopg://payroll:pw@db/payroll",
         "REDIS_URL": "redis://:pw@queue:6379/0"}


def test_production_with_a_database_a_queue_and_kivra_starts(tmp_path):
    config = load_config(str(tmp_path), READY)
    assert config["QUEUE_URL"] == READY["REDIS_URL"]


def test_production_without_database_url_refuses_rather_than_write_sqlite_beside_the_code(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL must be set"):
        load_config(str(tmp_path), {name: value for name, value in READY.items() if name != "DATABASE_URL"})


def test_production_without_redis_url_refuses_unless_the_sqlite_queue_is_chosen(tmp_path):
    without_redis = {name: value for name, value in READY.items() if name != "REDIS_URL"}
    with pytest.raises(ConfigError, match="REDIS_URL must be set .*HUEY_SQLITE_PATH"):
        load_config(str(tmp_path), without_redis)
    queue = tmp_path / "queue.db"  # one machine: web and workers share this file
    config = load_config(str(tmp_path), {**without_redis, "HUEY_SQLITE_PATH": str(queue)})
    assert config["QUEUE_URL"] == f"sqlite:///{queue}"


def test_production_refuses_a_sqlite_queue_or_instance_folder_inside_the_code(tmp_path):
    inside = str(CODE_DIR / "instance" / "queue.db")
    with pytest.raises(ConfigError, match="HUEY_SQLITE_PATH must be outside the code directory"):
        load_config(str(tmp_path), {**READY, "REDIS_URL": "", "HUEY_SQLITE_PATH": inside})
    with pytest.raises(ConfigError, match="INSTANCE_PATH must be outside the code directory"):
        instance_path({**READY, "INSTANCE_PATH": str(CODE_DIR / "instance")})
    assert instance_path({**READY, "INSTANCE_PATH": str(tmp_path)}) == str(tmp_path)


def test_the_instance_folder_is_configurable_and_the_sqlite_queue_follows_it(tmp_path):
    assert instance_path({"APP_ENV": "development"}) == str(CODE_DIR / "instance")
    moved = {"APP_ENV": "development", "INSTANCE_PATH": str(tmp_path)}
    assert instance_path(moved) == str(tmp_path)
    assert huey_sqlite_path(moved) == str(tmp_path / "queue.db")
    assert huey_sqlite_path({**moved, "HUEY_SQLITE_PATH": "/srv/q.db"}) == "/srv/q.db"
    instance = str(tmp_path / "instance")
    config = load_config(instance, {"APP_ENV": "development", "INSTANCE_PATH": instance})
    assert config["QUEUE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'queue.db'}"
    queue = make_storage(config["HUEY_NAME"], config["QUEUE_URL"])
    assert queue.filename == str(tmp_path / "instance" / "queue.db")


def test_the_app_keeps_its_local_files_in_the_instance_folder_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("SECRET_KEY", "test-only-secret")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.instance_path == str(tmp_path / "instance")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'payroll.db'}"
    assert (tmp_path / "instance").is_dir()


# --- the effective configuration at start -------------------------------------------------------------------------

SECRET_VALUES = ("s3cret", "kivra-client-secret", "db-password", "redis-password")


def test_the_effective_configuration_is_logged_at_start_without_a_secret(tmp_path, caplog):
    config = load_config(str(tmp_path), {
        **READY, "KIVRA_CLIENT_SECRET": "kivra-client-secret",
        "DATABASE_URL": "postgresql+psycopg://payroll:db-password@db.internal:5432/payroll?sslmode=require",
        "REDIS_URL": "redis://:redis-password@queue.internal:6379/0"})
    with caplog.at_level(logging.INFO, logger="kivra.startup"):
        log_effective(config, "worker", threads=8)
    [record] = caplog.records
    said = record.getMessage() + repr(record.__dict__)
    assert not [secret for secret in SECRET_VALUES if secret in said]
    assert "postgresql+psycopg://payroll:***@db.internal:5432/payroll?sslmode=require" in record.getMessage()
    assert "redis://:***@queue.internal:6379/0" in record.getMessage()  # the queue, and the throttle's counts
    assert (record.role, record.configuration["SECRET_KEY"], record.configuration["threads"]) == ("worker", "(set)", 8)
    assert record.configuration["KIVRA_CLIENT_ID"] == "id" and record.configuration["APP_ENV"] == "production"


def test_a_password_in_a_query_string_is_masked_too():
    assert mask_url("postgresql://db/payroll?user=app&password=pw") == "postgresql://db/payroll?user=app&password=***"
    assert mask_url("sqlite:////srv/payroll/payroll.db") == "sqlite:////srv/payroll/payroll.db"


def test_each_app_says_its_configuration_at_info(caplog):
    with caplog.at_level(logging.INFO, logger="kivra.startup"):
        create_app({"TESTING": True})
    assert [record.role for record in caplog.records if record.name == "kivra.startup"] == ["app"]


def test_production_without_instance_path_has_no_instance_folder(tmp_path):
    assert load_config(str(tmp_path), READY)["INSTANCE_PATH"] is None
    assert load_config(str(tmp_path), {**READY, "INSTANCE_PATH": str(tmp_path)})["INSTANCE_PATH"] == str(tmp_path)
