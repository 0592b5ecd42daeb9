"""Production settings: `manage.py check --deploy` is clean with DEBUG off, and each security
setting reads its environment variable (each case in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from .test_settings import ROOT

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "chat.example"}
SECURITY_VARIABLES = {
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_REFERRER_POLICY",
    "CSP_MEDIA_SRC",
    "CSP_REPORT_URI",
    "CSP_REPORT_ONLY",
}

PROBE = """
import json, django
from django.conf import settings
django.setup()
names = [
    "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS",
    "CSP_MEDIA_SRC", "CSP_REPORT_URI", "CSP_REPORT_ONLY",
    "CHAT_LOGIN_FAILURE_RATE", "CHAT_LOGIN_FAILURE_RATE_IP",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", *SECURITY_VARIABLES}
    }
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)


def settings_with(**env: str) -> dict[str, object]:
    result = run(["-c", PROBE], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_check_deploy_is_clean_in_production() -> None:
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "warning"),
    [
        ("SECURE_SSL_REDIRECT", "security.W008"),
        ("SESSION_COOKIE_SECURE", "security.W012"),
        ("CSRF_COOKIE_SECURE", "security.W016"),
        ("SECURE_HSTS_PRELOAD", "security.W021"),
    ],
)
def test_check_deploy_reports_a_setting_turned_off(variable: str, warning: str) -> None:
    """The clean result above means something: turning one setting off is reported."""
    result = check_deploy(**PRODUCTION, **{variable: "0"})
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_production_defaults() -> None:
    config = settings_with(**PRODUCTION)
    assert config["SECURE_SSL_REDIRECT"] is True
    assert config["SECURE_REDIRECT_EXEMPT"] == ["^healthz$"]
    assert config["SECURE_PROXY_SSL_HEADER"] is None
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CSRF_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SECURE_HSTS_SECONDS"] == 31_536_000
    assert config["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert config["SECURE_HSTS_PRELOAD"] is True
    assert config["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert config["SECURE_REFERRER_POLICY"] == "same-origin"
    assert config["X_FRAME_OPTIONS"] == "DENY"
    assert config["CSP_MEDIA_SRC"] == ["'self'", "blob:", "https:"]
    assert config["CSP_REPORT_ONLY"] is False


def test_development_defaults_need_no_https() -> None:
    config = settings_with()
    assert config["SECURE_SSL_REDIRECT"] is False
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["CSRF_COOKIE_SECURE"] is False
    assert config["SECURE_HSTS_SECONDS"] == 0


def test_every_security_setting_reads_its_variable() -> None:
    config = settings_with(
        **PRODUCTION,
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="1",
        SESSION_COOKIE_SECURE="no",
        CSRF_COOKIE_SECURE="off",
        SECURE_HSTS_SECONDS="300",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="0",
        SECURE_REFERRER_POLICY="strict-origin-when-cross-origin",
        CSP_MEDIA_SRC="'self' https://videos.example,https://cdn.example",
        CSP_REPORT_URI="/csp-reports",
        CSP_REPORT_ONLY="1",
        CHAT_LOGIN_FAILURE_RATE="3/60",
        CHAT_LOGIN_FAILURE_RATE_IP="10/60",
    )
    assert config["SECURE_SSL_REDIRECT"] is False
    assert config["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["CSRF_COOKIE_SECURE"] is False
    assert config["SECURE_HSTS_SECONDS"] == 300
    assert config["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert config["SECURE_HSTS_PRELOAD"] is False
    assert config["SECURE_REFERRER_POLICY"] == "strict-origin-when-cross-origin"
    assert config["CSP_MEDIA_SRC"] == ["'self'", "https://videos.example", "https://cdn.example"]
    assert config["CSP_REPORT_URI"] == "/csp-reports"
    assert config["CSP_REPORT_ONLY"] is True
    assert (config["CHAT_LOGIN_FAILURE_RATE"], config["CHAT_LOGIN_FAILURE_RATE_IP"]) == ("3/60", "10/60")


@pytest.mark.parametrize(
    ("variable", "value"), [("SECURE_SSL_REDIRECT", "maybe"), ("SECURE_HSTS_SECONDS", "1y")]
)
def test_unreadable_security_settings_fail_loudly(variable: str, value: str) -> None:
    result = run(["-c", PROBE], **PRODUCTION, **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
