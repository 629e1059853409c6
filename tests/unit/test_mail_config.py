"""E-mail's settings: production refuses to start without SMTP_URL and PUBLIC_URL unless MAIL_DISABLED says it sends
none; a SMTP_URL that is no SMTP server is refused; its password never reaches the log."""
import logging

import pytest

from kivra.config import ConfigError, load_config, log_effective

READY = {"APP_ENV": "production", "SECRET_KEY": "s3cret-but-at-least-32-characters-long", "KIVRA_API_URL": "https://kivra.example",
         "KIVRA_CLIENT_ID": "id", "KIVRA_CLIENT_SECRET": "secret",
         "DATABASE_URL": "postgresql+psycopg://payroll:pw@db/payroll", "REDIS_URL": "redis://:pw@queue:6379/0"}
MAIL = {"SMTP_URL": "smtp://lon%40example.se:smtp-password@mail.example.se:587", "PUBLIC_URL": "https://lon.example.se"}


@pytest.mark.parametrize("missing", [("SMTP_URL",), ("PUBLIC_URL",), ("SMTP_URL", "PUBLIC_URL")])
def test_production_without_smtp_url_or_public_url_refuses_to_start_and_names_them(tmp_path, missing):
    environ = {**READY, **{name: value for name, value in MAIL.items() if name not in missing}}
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), environ)
    assert all(name in str(refused.value) for name in missing)
    assert "MAIL_DISABLED=true" in str(refused.value)


def test_production_with_smtp_url_and_public_url_starts(tmp_path):
    config = load_config(str(tmp_path), {**READY, **MAIL})
    assert (config["SMTP_URL"], config["PUBLIC_URL"], config["MAIL_DISABLED"]) == (
        MAIL["SMTP_URL"], "https://lon.example.se", False)
    assert config["MAIL_FROM"] == "Lön <no-reply@lon.example.se>"


@pytest.mark.parametrize("flag", ["true", "1", "TRUE"])
def test_production_with_mail_disabled_starts_without_them(tmp_path, flag):
    config = load_config(str(tmp_path), {**READY, "MAIL_DISABLED": flag})
    assert config["MAIL_DISABLED"] is True and config["SMTP_URL"] is None


def test_mail_disabled_false_is_no_way_around_the_refusal(tmp_path):
    with pytest.raises(ConfigError, match="SMTP_URL and PUBLIC_URL"):
        load_config(str(tmp_path), {**READY, "MAIL_DISABLED": "false"})


@pytest.mark.parametrize("url", ["http://mail.example.se", "mail.example.se:587", "smtp://", "smtp:///nohost"])
def test_a_smtp_url_that_is_no_smtp_server_is_refused(tmp_path, url):
    with pytest.raises(ConfigError, match="SMTP_URL must look like"):
        load_config(str(tmp_path), {**READY, **MAIL, "SMTP_URL": url})


@pytest.mark.parametrize("url", ["smtp://lön:pw@mail.example.se:587", "smtp://lon:l%C3%B6senord@mail.example.se:587"])
def test_a_smtp_login_smtp_cannot_send_is_refused_at_start_not_at_the_first_e_mail(tmp_path, url):
    """smtplib sends the user and password as ASCII: anything else would fail every round of every worker."""
    with pytest.raises(ConfigError, match="ASCII"):
        load_config(str(tmp_path), {**READY, **MAIL, "SMTP_URL": url})


@pytest.mark.parametrize("url", ["lon.example.se", "ftp://lon.example.se", "https://lon.example.se/?a=1"])
def test_a_public_url_that_is_no_web_address_is_refused(tmp_path, url):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_config(str(tmp_path), {**READY, **MAIL, "PUBLIC_URL": url})


def test_the_smtp_password_is_masked_in_the_effective_configuration(tmp_path, caplog):
    config = load_config(str(tmp_path), {**READY, **MAIL})
    with caplog.at_level(logging.INFO, logger="kivra.startup"):
        log_effective(config, "worker")
    [record] = caplog.records
    said = record.getMessage() + repr(record.__dict__)
    assert "smtp-password" not in said
    assert "SMTP_URL=smtp://lon%40example.se:***@mail.example.se:587" in record.getMessage()
    assert record.configuration["PUBLIC_URL"] == "https://lon.example.se"
