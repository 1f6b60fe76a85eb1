"""Reading configuration from the environment.

Every helper refuses a bad value with ``ImproperlyConfigured`` naming the variable, so a
misconfigured process stops at start-up instead of misbehaving later. ``NAME_FILE`` variants let
secrets come from files (Docker/Kubernetes secrets) rather than the environment.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


def env_str(name, default=_MISSING):
    """The variable's value, or the content of the file named by ``NAME_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_name!r}, which cannot be read: {exc.strerror}."
            ) from exc
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default
    return value


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of true, false, 1, 0, yes, no, on, off."
    )


def env_int(name, default, *, minimum=None):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is too small; the minimum is {minimum}.")
    return value


def env_rate(name, default):
    """A throttle rate, ``N/second``, ``N/minute``, ``N/hour`` or ``N/day`` (REST framework's
    form; only the first letter of the period counts, so ``N/min`` is fine too)."""
    value = env_str(name, default).strip()
    count, _, period = value.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in ("s", "m", "h", "d")):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 100/minute (a positive number, then /second, "
            f"/minute, /hour or /day), not {value!r}."
        )
    return value


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name, default, choices):
    value = os.environ.get(name, default)
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {allowed}.")
    return value


def database_from_url(name, default):
    """Django DATABASES entry from a URL, refusing unknown schemes and malformed URLs."""
    import dj_database_url

    url = os.environ.get(name) or default
    scheme = url.split(":", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must be a sqlite:/// or postgresql:// URL; got scheme {scheme!r}."
        )
    try:
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from exc
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} does not name a database.")
    return config


def broker_url(name, default):
    url = os.environ.get(name) or default
    scheme = url.split(":", 1)[0]
    if scheme not in {"redis", "rediss", "amqp", "amqps", "filesystem", "memory"}:
        raise ImproperlyConfigured(
            f"{name} must use redis://, rediss://, amqp://, filesystem:// or memory://; "
            f"got {url!r}."
        )
    return url
