import pytest

from kivra.config import ConfigError, load_config


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


def test_environment_variables_are_read(tmp_path):
    config = load_config(str(tmp_path), {
        "APP_ENV": "production", "SECRET_KEY": "s3cret", "DATABASE_URL": "postgresql+psycopg://db/payroll",
        "KIVRA_API_URL": "https://kivra.example", "KIVRA_CLIENT_ID": "id", "KIVRA_CLIENT_SECRET": "secret",
        "EMPLOYER_CONTRIBUTION_RATE": "10.21",
    })
    assert config["SECRET_KEY"] == "s3cret"
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


PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s3cret"}
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
