"""Configuration from environment variables, with safe local defaults."""
import logging
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(RuntimeError):
    """The environment does not describe a runnable app."""


# Production talks to Kivra itself: these have no default there. Elsewhere they default to the local sandbox.
KIVRA_SETTINGS = ("KIVRA_API_URL", "KIVRA_CLIENT_ID", "KIVRA_CLIENT_SECRET")
# Where the code is: a checkout, or site-packages once the wheel is installed. Production writes nothing in it.
CODE_DIR = Path(__file__).resolve().parent.parent


def _app_env(env, default: str = "production") -> str:
    app_env = env.get("APP_ENV", default)
    if app_env not in ("development", "testing", "production"):
        raise ConfigError(f"APP_ENV must be development, testing or production, not {app_env!r}")
    return app_env


def _in_code_dir(path: str) -> bool:
    return Path(path).resolve().is_relative_to(CODE_DIR)


def instance_path(environ=None) -> str:
    """The instance folder (local SQLite files): INSTANCE_PATH, else `instance/` beside the code. Production refuses
    one inside the code directory, and without INSTANCE_PATH keeps nothing there (its database and queue are named
    explicitly, see `load_config`)."""
    env = os.environ if environ is None else environ
    chosen = env.get("INSTANCE_PATH")
    if chosen and _app_env(env) == "production" and _in_code_dir(chosen):
        raise ConfigError(f"INSTANCE_PATH must be outside the code directory ({CODE_DIR}) when APP_ENV is production")
    return os.path.abspath(chosen) if chosen else str(CODE_DIR / "instance")


def huey_sqlite_path(environ=None) -> str:
    """The SQLite queue's file when there is no REDIS_URL: HUEY_SQLITE_PATH, else queue.db in the instance folder."""
    env = os.environ if environ is None else environ
    return env.get("HUEY_SQLITE_PATH") or os.path.join(instance_path(env), "queue.db")


def _queue(env, app_env: str, testing: bool = False) -> str:
    """Which queue the processes share: Redis, a SQLite file (one machine only), or memory (a test's app)."""
    if env.get("REDIS_URL"):
        return env["REDIS_URL"]
    if (testing or env.get("HUEY_BACKEND") == "memory") and app_env != "production":
        return "memory://"
    return "sqlite:///" + huey_sqlite_path(env)


# The keys development and tests sign with when none is given: public, so never production's.
KNOWN_KEYS = ("dev-only-not-secret", "test-only-not-secret")
MIN_SECRET_KEY_LENGTH = 32


def _secret_key_refusals(env) -> list[str]:
    """Production signs sessions and e-mail links with SECRET_KEY (and still accepts SECRET_KEY_FALLBACKS'): each
    must be long and not one of the known development keys. The values are never repeated in the message."""
    refusals = []
    named = [("SECRET_KEY", env.get("SECRET_KEY", ""))] if env.get("SECRET_KEY") else []
    named += [(f"SECRET_KEY_FALLBACKS entry {number}", key) for number, key in enumerate(_fallbacks(env), start=1)]
    for name, key in named:
        if key in KNOWN_KEYS:
            refusals.append(f"{name} must not be the development or test key")
        elif len(key) < MIN_SECRET_KEY_LENGTH:
            refusals.append(f"{name} must be at least {MIN_SECRET_KEY_LENGTH} characters (it has {len(key)}); "
                            "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return refusals


def _fallbacks(env) -> list[str]:
    return [key.strip() for key in env.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]


def _session_limit(env, name: str, default: str) -> int:
    value = env.get(name, default)
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number above 0, not {value!r}")
    return int(value)


def _production_refusals(env) -> list[str]:
    """What production lacks, instead of falling back to the sandbox or to SQLite files beside the code."""
    missing = [name for name in KIVRA_SETTINGS if not env.get(name)]
    refusals = [f"{', '.join(missing)} must be set (else payslips would go to the sandbox)"] if missing else []
    refusals += _secret_key_refusals(env)
    if not env.get("DATABASE_URL"):
        refusals.append("DATABASE_URL must be set (production keeps no SQLite database beside the code)")
    if not env.get("REDIS_URL") and not env.get("HUEY_SQLITE_PATH"):
        # Web and workers on several machines cannot share a SQLite file: one machine only is a deliberate choice.
        refusals.append("REDIS_URL must be set (or HUEY_SQLITE_PATH, for web and workers on this one machine only)")
    if env.get("HUEY_SQLITE_PATH") and _in_code_dir(env["HUEY_SQLITE_PATH"]):
        refusals.append(f"HUEY_SQLITE_PATH must be outside the code directory ({CODE_DIR})")
    if not _flag(env, "MAIL_DISABLED"):
        missing = [name for name in ("SMTP_URL", "PUBLIC_URL") if not env.get(name)]
        if missing:
            refusals.append(f"{' and '.join(missing)} must be set (else invitations, payslip notices and password "
                            "resets would never leave), or MAIL_DISABLED=true to run without e-mail")
    return refusals


def _flag(env, name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _public_url(env, app_env: str) -> str:
    """Where people reach the app: every link in an e-mail starts with it, never with a request's Host."""
    url = env.get("PUBLIC_URL") or ("http://localhost" if app_env == "testing" else "http://127.0.0.1:5000")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_URL must be the app's address, like https://lon.example.se, not {url!r}")
    return url.rstrip("/")


def _smtp_url(env) -> str | None:
    url = env.get("SMTP_URL") or None
    if url and (urlsplit(url).scheme not in ("smtp", "smtps") or not urlsplit(url).hostname):
        raise ConfigError("SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465")
    if url and not unquote(urlsplit(url).netloc.rpartition("@")[0]).isascii():
        raise ConfigError("SMTP_URL's user and password must be ASCII (SMTP sends them so)")
    return url


def _sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "payroll.db")


def engine_options(database_url: str) -> dict:
    """SQLAlchemy's engine options for this database.

    - hide_parameters: a database error (logged with its traceback) names the statement, never the values bound to
      it, which may be a personnummer, a bank account or a salary.
    - No limit on the pool of its own (a file, not an in-memory SQLite): a thread holds one connection at a time, so a
      process opens at most one per thread (a worker's consumer threads and its three housekeeping threads,
      gunicorn's). SQLAlchemy's default of 15 made a worker of 32 threads wait for connections, and a wait of 30 s
      failed the attempt (docs/operations.md, "Connections").
    - PostgreSQL: times are stored as UTC without a zone, so its sessions are in UTC and read and write them as they
      are; a connection the server dropped is replaced before it is used.
    """
    options: dict = {"hide_parameters": True}
    if database_url.startswith("postgresql"):
        options |= {"connect_args": {"options": "-c timezone=UTC"}, "pool_pre_ping": True}
    try:
        database = make_url(database_url).database
    except ArgumentError:  # its message repeats the URL, password and all
        raise ConfigError("DATABASE_URL is not a database URL (postgresql+psycopg://user:password@host/name)") from None
    if database not in (None, "", ":memory:"):
        options |= {"pool_size": 0, "max_overflow": -1}
    return options


def load_config(instance_path: str, environ=None, testing: bool = False) -> dict:
    """Read settings from the environment; refuse to start production without a secret key, Kivra's settings, a
    database and a queue every process can share. A test's app (`testing`: create_app with TESTING) is in APP_ENV
    testing with a throwaway secret unless the environment says otherwise; its test_config then says the rest."""
    env = os.environ if environ is None else environ
    app_env = _app_env(env, "testing" if testing else "production")
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if app_env == "testing" and testing:
            secret_key = "test-only-not-secret"
        elif app_env != "development":
            raise ConfigError(f"SECRET_KEY must be set when APP_ENV is {app_env}")
        else:
            secret_key = "dev-only-not-secret"
    refusals = _production_refusals(env) if app_env == "production" else []
    if refusals:
        raise ConfigError("; ".join(refusals) + " when APP_ENV is production")
    database_url = env.get("DATABASE_URL") or _sqlite_url(instance_path)
    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {log_level!r}")
    log_format = env.get("LOG_FORMAT", "").lower() or None
    if log_format not in (None, "json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    max_content_length = env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))
    if not max_content_length.isdigit() or int(max_content_length) == 0:
        raise ConfigError(f"MAX_CONTENT_LENGTH must be a number of bytes, not {max_content_length!r}")
    session_idle_minutes = _session_limit(env, "SESSION_IDLE_MINUTES", "30")
    session_max_hours = _session_limit(env, "SESSION_MAX_HOURS", "12")
    trusted_proxies = env.get("TRUSTED_PROXIES", "0")
    if not trusted_proxies.isdigit():
        raise ConfigError(f"TRUSTED_PROXIES must be the number of proxies in front of the app, not {trusted_proxies!r}")
    return {
        "APP_ENV": app_env,
        # Production without INSTANCE_PATH keeps nothing in one (its database and queue are named explicitly).
        "INSTANCE_PATH": instance_path if app_env != "production" or env.get("INSTANCE_PATH") else None,
        # The queue this app's tasks go to, and its name in it (kivra/dispatch/app_queue.py); a test's app says
        # "memory://" in its test_config.
        "QUEUE_URL": _queue(env, app_env, testing),
        "HUEY_NAME": env.get("HUEY_NAME", "kivra-payroll"),
        "SECRET_KEY": secret_key,
        # Keys being rotated out (comma separated): sessions and invitation links signed with them still open, and
        # anything signed from now on uses SECRET_KEY (docs/operations.md, "Rotating secrets").
        "SECRET_KEY_FALLBACKS": _fallbacks(env),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "KIVRA_API_URL": env.get("KIVRA_API_URL", "http://127.0.0.1:8765"),
        # `flask serve` starts a Kivra sandbox in-process on this port, unless KIVRA_API_URL names a Kivra (None).
        "KIVRA_SANDBOX_PORT": None if env.get("KIVRA_API_URL") else int(env.get("KIVRA_SANDBOX_PORT", "8765")),
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
        # A task that cannot reach the database or Redis runs again this much later (kivra/dispatch/outages.py).
        "DISPATCH_OUTAGE_RETRY_SECONDS": float(env.get("DISPATCH_OUTAGE_RETRY_SECONDS", "5")),
        # On SIGTERM or SIGINT a worker takes no new task, lets the sends in hand finish for this long, then hands
        # back the claims it still holds; keep it below the supervisor's stop timeout (systemd's TimeoutStopSec).
        "WORKER_STOP_GRACE_SECONDS": float(env.get("WORKER_STOP_GRACE_SECONDS", "20")),
        "KIVRA_ACCESS_CHECK_SECONDS": float(env.get("KIVRA_ACCESS_CHECK_SECONDS", "60")),
        # Each worker process says it is alive this often; none seen for WORKER_SILENT_SECONDS means no one sends.
        "WORKER_HEARTBEAT_SECONDS": float(env.get("WORKER_HEARTBEAT_SECONDS", "5")),
        "WORKER_SILENT_SECONDS": float(env.get("WORKER_SILENT_SECONDS", "60")),
        # Kivra calls a page asks a worker for (kivra/dispatch/kivra_jobs.py): how long a queued one may wait for its task
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
        # The largest request body read (413 past it, before the form is parsed), the largest text field of a
        # multipart form, and its most fields: every form here is a few kB, and no page takes a file.
        "MAX_CONTENT_LENGTH": int(max_content_length),
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1000,
        # A session ends after this long without a request, and this long after signing in however busy
        # (kivra/web/session_limits.py); the cookie itself is refused by Flask after the longer one.
        "SESSION_IDLE_MINUTES": session_idle_minutes,
        "SESSION_MAX_HOURS": session_max_hours,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_max_hours),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": app_env == "production",
        "REMEMBER_COOKIE_SECURE": app_env == "production",
        "WTF_CSRF_TIME_LIMIT": None,
        # E-mail (kivra/mail): the SMTP server it leaves through; unset outside production, `flask serve` starts a
        # local one (aiosmtpd) on DEV_SMTP_PORT, with a web mailbox on DEV_MAILBOX_PORT to read what was sent.
        "SMTP_URL": _smtp_url(env),
        "DEV_SMTP_PORT": int(env.get("DEV_SMTP_PORT", "8025")),
        "DEV_MAILBOX_PORT": int(env.get("DEV_MAILBOX_PORT", "8026")),
        "PUBLIC_URL": _public_url(env, app_env),
        "PUBLIC_URL_CONFIGURED": bool(env.get("PUBLIC_URL")),  # else `flask serve` says where it listens
        # Explicitly no e-mail: nothing is written to the outbox, and the pages say what they cannot send.
        "MAIL_DISABLED": _flag(env, "MAIL_DISABLED"),
        "MAIL_FROM": env.get("MAIL_FROM") or f"Lön <no-reply@{urlsplit(_public_url(env, app_env)).hostname}>",
        "MAIL_POLL_SECONDS": float(env.get("MAIL_POLL_SECONDS", "2")),
        "MAIL_BATCH": int(env.get("MAIL_BATCH", "50")),
        "MAIL_LEASE_SECONDS": float(env.get("MAIL_LEASE_SECONDS", "120")),
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS", "10")),
        "MAIL_RETRY_SECONDS": float(env.get("MAIL_RETRY_SECONDS", "30")),
        "MAIL_RETRY_CAP_SECONDS": float(env.get("MAIL_RETRY_CAP_SECONDS", "3600")),
        "MAIL_TIMEOUT_SECONDS": float(env.get("MAIL_TIMEOUT_SECONDS", "20")),
    }


def child_environ(**settings) -> dict:
    """The environment of a program this one starts (`flask serve`'s worker): this process's, plus `settings`."""
    return {**os.environ, **settings}


# --- what a process says at start -------------------------------------------------------------------------------

log = logging.getLogger("kivra.startup")
SECRETS = ("SECRET_KEY", "KIVRA_CLIENT_SECRET", "METRICS_TOKEN")
LOGGED = ("APP_ENV", "INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI", "QUEUE_URL", "RATELIMIT_STORAGE_URI", "KIVRA_API_URL",
          "KIVRA_CLIENT_ID", "KIVRA_CLIENT_SECRET", "SECRET_KEY", "DISPATCH_WORKERS", "DISPATCH_LEASE_SECONDS",
          "DISPATCH_MAX_ATTEMPTS", "DISPATCH_RETRY_SECONDS", "DISPATCH_RETRY_CAP_SECONDS", "DISPATCH_SWEEP_SECONDS",
          "KIVRA_ACCESS_CHECK_SECONDS", "KIVRA_MAX_ATTEMPTS", "KIVRA_TIMEOUT_SECONDS", "WORKER_HEARTBEAT_SECONDS",
          "WORKER_SILENT_SECONDS", "SESSION_COOKIE_SECURE", "TRUSTED_PROXIES", "HSTS_SECONDS", "LOG_LEVEL", "LOG_FORMAT",
          "METRICS_TOKEN", "DISPATCH_FAILED_PAYLOAD_DAYS", "SMTP_URL", "PUBLIC_URL", "MAIL_DISABLED", "MAIL_FROM",
          "MAX_CONTENT_LENGTH", "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS")
_SECRET_WORDS = ("password", "secret", "token", "key")


def mask_url(url: str) -> str:
    """The URL with its password (and any secret-looking query value) replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else netloc
    query = urlencode([(name, "***" if any(word in name.lower() for word in _SECRET_WORDS) else value)
                       for name, value in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    if (netloc, query) == (parts.netloc, urlencode(parse_qsl(parts.query, keep_blank_values=True))):
        return url  # nothing to hide (and sqlite:////path keeps its slashes)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def effective(config) -> dict:
    """The settings worth seeing at start, secrets hidden: set or not, never their value."""
    shown = {}
    for name in LOGGED:
        value = config.get(name)
        if name in SECRETS:
            value = "(set)" if value else "(unset)"
        elif isinstance(value, str) and "://" in value:
            value = mask_url(value)
        shown[name] = value
    return shown


def log_effective(config, role: str, **more) -> None:
    """One INFO line with this process's effective configuration (structured in `extra` for a JSON formatter)."""
    shown = {**effective(config), **more}
    log.info("%s starting with %s", role, " ".join(f"{name}={value}" for name, value in shown.items()),
             extra={"role": role, "configuration": shown})
