"""`/accounts/tokens/`: a signed-in user's API tokens: make one (shown once), see them with
their last use, revoke one. A token cannot open this page (chat/web/tokens.py)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from chat.domain.rooms import find_room
from chat.domain.tokens import (
    EXPIRY_DAYS_MAX,
    NAME_MAX_CHARS,
    ROOMS_PER_TOKEN_MAX,
    create_token,
    live_tokens,
    revoke_token,
)
from chat.errors import ChatError
from chat.models import Room, TokenScope
from chat.realtime.grip import end_token_streams_after_commit
from chat.realtime.notices import TOKENS_ENDED, announce_after_commit

from .http import login_redirect

EXPIRY_CHOICES = [
    ("", _("Never")),
    ("1", _("1 day")),
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("365", _("1 year")),
]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_CHARS, label=_("Name"))
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ],
        label=_("Scopes"),
    )
    rooms = forms.CharField(
        required=False,
        max_length=ROOMS_PER_TOKEN_MAX * 51,
        label=_("Rooms"),
        help_text=format_lazy(
            _("Room addresses separated by spaces (at most {count}); empty: every room."),
            count=ROOMS_PER_TOKEN_MAX,
        ),
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label=_("Expires"))

    def clean_rooms(self) -> list[Room]:
        slugs = list(dict.fromkeys(self.cleaned_data["rooms"].replace(",", " ").split()))
        if len(slugs) > ROOMS_PER_TOKEN_MAX:
            raise forms.ValidationError(
                ngettext("At most %(count)s room.", "At most %(count)s rooms.", ROOMS_PER_TOKEN_MAX)
                % {"count": ROOMS_PER_TOKEN_MAX},
                code="too_many_rooms",
            )
        rooms = []
        for slug in slugs:
            room = find_room(slug)
            if room is None:
                raise forms.ValidationError(
                    gettext("There is no room “%(slug)s”.") % {"slug": slug}, code="no_such_room"
                )
            rooms.append(room)
        return rooms


@require_http_methods(["GET", "HEAD", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return login_redirect(request)
    form = TokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            days = form.cleaned_data["expires"]
            expires_at = timezone.now() + timedelta(days=int(days)) if days else None
            try:
                created = create_token(
                    request.user,
                    form.cleaned_data["name"],
                    form.cleaned_data["scopes"],
                    rooms=form.cleaned_data["rooms"],
                    expires_at=expires_at,
                )
            except ChatError as error:
                form.add_error(None, error.message)
        if created is None:
            status = 400
        else:
            form = TokenForm()
    tokens = live_tokens(request.user).prefetch_related("rooms")
    context = {
        "form": form,
        "created": created,
        "tokens": tokens,
        "expiry_days_max": EXPIRY_DAYS_MAX,
        "scope_names": dict(TokenScope.choices),
    }
    response = render(request, "chat/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may show a new token
    return response


@require_POST
def revoke_token_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return login_redirect(request)
    if revoke_token(request.user, token_id):
        announce_after_commit(TOKENS_ENDED)  # its connections end now (transports/token_watch.py)
        end_token_streams_after_commit([token_id])  # and those Pushpin holds
    return redirect("tokens")
