"""The fields of moderation requests, checked: a reason, a user named by a moderator, an event id."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from chat.domain.inputs import SEQ_MAX
from chat.domain.text import clean_text
from chat.errors import ChatError

REASON_MAX_CHARS = 500


def clean_reason(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatError("invalid", _("reason must be a string."), field="reason")
    if not value.strip():
        return ""
    return clean_text(value, max_chars=REASON_MAX_CHARS)


def find_user(name: object) -> User:
    if not isinstance(name, str) or not name or len(name) > 150 or "\x00" in name:
        raise ChatError("invalid", _("user must be a user name."), field="user")
    user = User.objects.filter(username=name).first()
    if user is None:
        raise ChatError(
            "not_found",
            _("There is no user %(name)s."),
            params={"name": repr(name)},
            status=404,
            field="user",
        )
    return user


def clean_event_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < SEQ_MAX:
        raise ChatError("invalid", _("id must be the id of a message or comment."), field="id")
    return value
