"""Settings come from the environment; each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "options": db.get("OPTIONS", {}),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"], "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS,
}))
"""


def probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def settings_with(**env: str) -> dict[str, object]:
    result = probe(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_defaults_need_no_services() -> None:
    config = settings_with()
    assert config["engine"] == "config.sqlite"  # Django's, with writers taking turns
    assert config["name"].endswith("db.sqlite3")
    assert "journal_mode=WAL" in config["options"]["init_command"]
    assert config["options"]["timeout"] > 0
    assert config["options"]["transaction_mode"] == "IMMEDIATE"
    assert config["layer"] == "chat.realtime.layers.InMemoryChannelLayer"
    assert config["cache"].endswith("LocMemCache")
    assert config["debug"] is True


def test_database_and_redis_urls_switch_backends() -> None:
    config = settings_with(
        DATABASE_URL="postgres://someone@db.example:5432/chat", REDIS_URL="redis://cache.example:6379/0"
    )
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["name"] == "chat"
    assert config["layer"] == "channels_redis.core.RedisChannelLayer"
    assert config["cache"].endswith("RedisCache")


def test_production_refuses_the_development_secret_key() -> None:
    result = probe(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    config = settings_with(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="chat.example,www.chat.example")
    assert config["debug"] is False
    assert config["hosts"] == ["chat.example", "www.chat.example"]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_unreadable_boolean_fails_loudly(value: str) -> None:
    result = probe(DEBUG=value)
    assert result.returncode != 0
    assert "is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_WORKER", "celery", "use thread or off"),
        ("WEBHOOK_SCHEDULE", "0,5,soon", "seconds, comma-separated"),
        ("WEBHOOK_SCHEDULE", "0,-5", "none negative"),
        ("WEBHOOK_ALLOW_PRIVATE", "perhaps", "is not a boolean"),
    ],
)
def test_bad_webhook_settings_fail_loudly(name: str, value: str, message: str) -> None:
    result = probe(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GRIP_URL": "http://127.0.0.1:5561"}, "GRIP_URL and GRIP_KEY go together"),
        ({"GRIP_KEY": "k" * 40}, "GRIP_URL and GRIP_KEY go together"),
        ({"GRIP_URL": "http://127.0.0.1:5561", "GRIP_KEY": "changeme"}, "at least 32 bytes"),
        ({"GRIP_STATS": "ipc:///run/pushpin/pushpin-stats"}, "it needs GRIP_URL and GRIP_KEY"),
    ],
)
def test_bad_grip_settings_fail_loudly(env: dict[str, str], message: str) -> None:
    result = probe(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
