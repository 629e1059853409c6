"""Configuration from environment variables, with safe local defaults."""
import os
from datetime import date
from decimal import Decimal


class ConfigError(RuntimeError):
    """The environment does not describe a runnable app."""


# Production talks to Kivra itself: these have no default there. Elsewhere they default to the local sandbox.
KIVRA_SETTINGS = ("KIVRA_API_URL", "KIVRA_CLIENT_ID", "KIVRA_CLIENT_SECRET")


def _sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "payroll.db")


def load_config(instance_path: str, environ=None) -> dict:
    """Read settings from the environment; refuse to start production without a secret key or Kivra's settings."""
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "production")
    if app_env not in ("development", "testing", "production"):
        raise ConfigError(f"APP_ENV must be development, testing or production, not {app_env!r}")
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if app_env != "development":
            raise ConfigError(f"SECRET_KEY must be set when APP_ENV is {app_env}")
        secret_key = "dev-only-not-secret"
    missing = [name for name in KIVRA_SETTINGS if not env.get(name)]
    if app_env == "production" and missing:
        # Without them production would quietly send payslips to the local sandbox.
        raise ConfigError(f"{', '.join(missing)} must be set when APP_ENV is production")
    database_url = env.get("DATABASE_URL") or _sqlite_url(instance_path)
    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {log_level!r}")
    log_format = env.get("LOG_FORMAT", "").lower() or None
    if log_format not in (None, "json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    trusted_proxies = env.get("TRUSTED_PROXIES", "0")
    if not trusted_proxies.isdigit():
        raise ConfigError(f"TRUSTED_PROXIES must be the number of proxies in front of the app, not {trusted_proxies!r}")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        # Keys being rotated out (comma separated): sessions and invitation links signed with them still open, and
        # anything signed from now on uses SECRET_KEY (docs/operations.md, "Rotating SECRET_KEY").
        "SECRET_KEY_FALLBACKS": [key.strip() for key in env.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()],
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Times are stored as UTC without a zone: a PostgreSQL session in UTC reads and writes them as they are.
        "SQLALCHEMY_ENGINE_OPTIONS": (
            {"connect_args": {"options": "-c timezone=UTC"}, "pool_pre_ping": True}
            if database_url.startswith("postgresql") else {}
        ),
        "KIVRA_API_URL": env.get("KIVRA_API_URL", "http://127.0.0.1:8765"),
        "KIVRA_CLIENT_ID": env.get("KIVRA_CLIENT_ID", "sandbox-client"),
        "KIVRA_CLIENT_SECRET": env.get("KIVRA_CLIENT_SECRET", "sandbox-secret"),
        "EMPLOYER_CONTRIBUTION_RATE": Decimal(env.get("EMPLOYER_CONTRIBUTION_RATE", "31.42")),
        # Companies created on or after this date are new customers: Kivra is active from their start.
        "KIVRA_NEW_CUSTOMERS_SINCE": date.fromisoformat(env.get("KIVRA_NEW_CUSTOMERS_SINCE", "2026-12-01")),
        # The dispatch engine (see kivra/dispatch): claims, retries, worker threads, housekeeping.
        # A claim lasts a lease unrenewed; each worker renews its claims every third of one (kivra/dispatch/leases.py),
        # so a dead worker's rows move on within a lease and a sweep.
        "DISPATCH_LEASE_SECONDS": float(env.get("DISPATCH_LEASE_SECONDS", "15")),
        "DISPATCH_MAX_ATTEMPTS": int(env.get("DISPATCH_MAX_ATTEMPTS", "8")),
        "DISPATCH_RETRY_SECONDS": float(env.get("DISPATCH_RETRY_SECONDS", "10")),
        "DISPATCH_RETRY_CAP_SECONDS": float(env.get("DISPATCH_RETRY_CAP_SECONDS", "900")),
        "DISPATCH_WORKERS": int(env.get("DISPATCH_WORKERS", "8")),
        "DISPATCH_SWEEP_SECONDS": float(env.get("DISPATCH_SWEEP_SECONDS", "5")),
        # A failed payslip keeps its stored Kivra payload this many days for "Resend failed" (0: for good); then
        # `flask dispatch prune` drops it and the payslip stays failed (kivra/dispatch/retention.py).
        "DISPATCH_FAILED_PAYLOAD_DAYS": int(env.get("DISPATCH_FAILED_PAYLOAD_DAYS", "0")),
        "KIVRA_ACCESS_CHECK_SECONDS": float(env.get("KIVRA_ACCESS_CHECK_SECONDS", "60")),
        # Each worker process says it is alive this often; none seen for WORKER_SILENT_SECONDS means no one sends.
        "WORKER_HEARTBEAT_SECONDS": float(env.get("WORKER_HEARTBEAT_SECONDS", "5")),
        "WORKER_SILENT_SECONDS": float(env.get("WORKER_SILENT_SECONDS", "60")),
        # Kivra calls a page asks a worker for (kivra/solutions/jobs.py): how long a queued one may wait for its task
        # before the periodic check does it itself, and how long a claimed one is left to the worker that took it.
        "KIVRA_JOB_GRACE_SECONDS": float(env.get("KIVRA_JOB_GRACE_SECONDS", "30")),
        "KIVRA_JOB_LEASE_SECONDS": float(env.get("KIVRA_JOB_LEASE_SECONDS", "300")),
        # Attempts within one call, and its timeout; the engine retries across calls on top (the heartbeat keeps the
        # claim while a slow call runs).
        "KIVRA_MAX_ATTEMPTS": int(env.get("KIVRA_MAX_ATTEMPTS", "3")),
        "KIVRA_TIMEOUT_SECONDS": float(env.get("KIVRA_TIMEOUT_SECONDS", "20")),
        # Sign-in throttling (Flask-Limiter): counted in Redis when there is one, so every web process shares the
        # count; in this process's memory otherwise, and there if Redis is unreachable (signing in never fails on it).
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "true").lower() not in ("0", "false", "no", "off"),
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": "kivra-payroll",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Logging (kivra/logs.py): JSON lines in production and text elsewhere unless LOG_FORMAT says otherwise.
        "LOG_LEVEL": log_level,
        "LOG_FORMAT": log_format,
        # GET /metrics (kivra/metrics.py) answers only a bearer of this token; unset, it is a 404.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        # Proxies in front of the app whose X-Forwarded-For and -Proto are believed (kivra/proxy.py); 0: none.
        "TRUSTED_PROXIES": int(trusted_proxies),
        # Strict-Transport-Security on HTTPS responses in production: browsers then refuse plain HTTP for this long.
        "HSTS_SECONDS": int(env.get("HSTS_SECONDS", "31536000")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": app_env == "production",
        "REMEMBER_COOKIE_SECURE": app_env == "production",
        "WTF_CSRF_TIME_LIMIT": None,
    }
