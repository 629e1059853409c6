"""Production refuses a weak SECRET_KEY (issue 17, item 6): shorter than 32 characters, or the key development and
tests sign with; the keys in SECRET_KEY_FALLBACKS, which still open sessions and links, likewise. The message names
the setting, never the value."""
import pytest

from kivra.config import ConfigError, load_config

STRONG = "k" * 32
READY = {"APP_ENV": "production", "SECRET_KEY": STRONG, "DATABASE_URL": "postgresql+psycopg://db/payroll",
         "REDIS_URL": "redis://queue:6379/0", "KIVRA_API_URL": "https://kivra.example", "KIVRA_CLIENT_ID": "id",
         "KIVRA_CLIENT_SECRET": "secret", "MAIL_DISABLED": "true"}


def test_a_long_key_starts(tmp_path):
    config = load_config(str(tmp_path), {**READY, "SECRET_KEY_FALLBACKS": "o" * 40})
    assert config["SECRET_KEY"] == STRONG and config["SECRET_KEY_FALLBACKS"] == ["o" * 40]


@pytest.mark.parametrize("key, said", [
    ("s3cret", "must be at least 32 characters (it has 6)"), ("x" * 31, "must be at least 32 characters (it has 31)"),
    ("dev-only-not-secret", "must not be the development or test key"),
    ("test-only-not-secret", "must not be the development or test key"),
])
def test_production_refuses_a_short_or_known_secret_key(tmp_path, key, said):
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), {**READY, "SECRET_KEY": key})
    assert f"SECRET_KEY {said}" in str(refused.value) and "when APP_ENV is production" in str(refused.value)
    assert key.endswith("not-secret") or key not in str(refused.value)  # a real key is never repeated


@pytest.mark.parametrize("fallbacks, said", [
    (f"{'o' * 40}, short", "SECRET_KEY_FALLBACKS entry 2 must be at least 32 characters"),
    ("dev-only-not-secret", "SECRET_KEY_FALLBACKS entry 1 must not be the development or test key"),
])
def test_production_refuses_a_weak_fallback_key(tmp_path, fallbacks, said):
    with pytest.raises(ConfigError, match=said):
        load_config(str(tmp_path), {**READY, "SECRET_KEY_FALLBACKS": fallbacks})


@pytest.mark.parametrize("app_env", ["development", "testing"])
def test_development_and_tests_may_use_short_keys(tmp_path, app_env):
    assert load_config(str(tmp_path), {"APP_ENV": app_env, "SECRET_KEY": "short"})["SECRET_KEY"] == "short"
