"""The Jinja2 environment for the site's pages: Django's static files, URLs and translations
(`_`, `gettext`, `ngettext` and `{% trans %}` blocks, as Jinja2's i18n extension gives them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone, translation
from jinja2 import Environment

from chat.web.language import page_catalog


def environment(**options: Any) -> Environment:
    env = Environment(**{**options, "extensions": [*options.get("extensions", ()), "jinja2.ext.i18n"]})
    env.install_gettext_translations(translation, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        {
            "static": static,
            "url": reverse,
            "LANGUAGES": settings.LANGUAGES,
            "current_language": translation.get_language,
            "i18n_catalog": page_catalog,
            "number": number,
            "localize": localize,
        }
    )
    return env


def number(value: int | float) -> str:
    """`value` with the active language's digit grouping (1,234 in English)."""
    return str(formats.number_format(value, force_grouping=True))


def localize(value: Any) -> str:
    """`value` as the active language writes it: a date and time in the site's time zone, in the
    language's DATETIME_FORMAT and with the zone's name ("2026年12月5日16:34 UTC" in Japanese), a
    number with its grouping."""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            return str(formats.date_format(value, "DATETIME_FORMAT"))
        value = timezone.localtime(value)
        return f"{formats.date_format(value, 'DATETIME_FORMAT')} {value.tzname()}"
    return str(formats.localize(value))
