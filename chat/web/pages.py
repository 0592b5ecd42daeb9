"""The site's pages: the room list, a room, creating a room, signing up and logging in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_safe

from chat.domain.access import can_moderate, is_staff
from chat.domain.moderation.standing import page_standing
from chat.domain.names import looks_taken
from chat.domain.rooms import find_room
from chat.domain.stats import MESSAGE_COUNT_CAP, message_counts
from chat.domain.text import MESSAGE_MAX_CHARS, clean_name
from chat.domain.wire import user_ref
from chat.errors import error_response
from chat.guards.login import ThrottledAuthenticationForm, login_throttled, wants_json
from chat.models import Room, validate_room_slug

from .http import login_redirect, readers_page_room

ROOM_LIST_MAX = 200


class LoginView(auth_views.LoginView):
    """`/accounts/login/`: Django's login form, throttled against password guessing
    (chat/guards/login.py). A throttled attempt answers 429 with Retry-After: the form with its
    error, or for a client asking for JSON, the error `rate_limited` with `retry_after`."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: Any) -> HttpResponse:
        retry_after = getattr(form, "retry_after", None)
        if retry_after is None:
            return super().form_invalid(form)
        refusal = login_throttled(retry_after)
        if wants_json(self.request):
            return error_response(refusal)
        response = super().form_invalid(form)
        response.status_code = refusal.status
        for name, value in refusal.headers().items():
            response[name] = value
        return response


def safe_next(request: HttpRequest) -> str | None:
    """The `next` parameter if it points into this site (never an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Public rooms, and the private rooms this user belongs to."""
    visible = Q(private=False)
    if request.user.is_authenticated:
        visible |= Q(owner=request.user) | Q(roles__user=request.user)
        if is_staff(request.user):
            visible = Q()
    rooms = list(Room.objects.filter(visible).distinct().order_by("-last_seq", "slug")[:ROOM_LIST_MAX])
    counts = message_counts(rooms)
    listed = [(room, counts[room.pk]) for room in rooms]
    return render(
        request,
        "chat/home.html",
        {"rooms": listed, "form": RoomForm(), "count_cap": MESSAGE_COUNT_CAP},
    )


class RoomForm(forms.Form):
    # The title first: the page suggests the address from it (static/js/ui/room-address.js).
    title = forms.CharField(max_length=200, label=_("Title"))
    slug = forms.CharField(
        max_length=50,
        validators=[validate_room_slug],
        label=_("Address"),
        help_text=_("Lowercase letters, digits and hyphens: the room's link, /rooms/address/."),
    )

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if find_room(slug) is not None:
            raise ValidationError(_("A room with this address already exists."), code="taken")
        return slug


@require_http_methods(["GET", "HEAD", "POST"])
def create_room(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return login_redirect(request)
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room = Room.objects.create(
            slug=form.cleaned_data["slug"], title=form.cleaned_data["title"], owner=request.user
        )
        return redirect("room", slug=room.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "chat/create_room.html", {"form": form}, status=status)


class NameField(UsernameField):
    """A user name as typed, without the characters that would let it pose as another or
    reorder the text around it (bidi controls, zero-width characters: `clean_name`)."""

    def to_python(self, value: Any) -> str:
        return clean_name(super().to_python(value) or "")


class SignupForm(UserCreationForm):
    """Django's sign-up form, refusing a name that looks like one already taken."""

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # not in the stubs
        field_classes = {"username": NameField}

    def clean_username(self) -> str:
        username: str = super().clean_username()
        if username and not self.has_error("username") and looks_taken(username):
            raise ValidationError(
                _("This name looks too much like someone else's. Please choose another."), code="confusable"
            )
        return username


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(safe_next(request) or "home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@require_safe
@ensure_csrf_cookie  # the page posts over HTTP when WebSocket is unavailable
def room_page(request: HttpRequest, slug: str) -> HttpResponse:
    room = readers_page_room(request, slug)
    if isinstance(room, HttpResponse):
        return room
    return render(
        request,
        "chat/room.html",
        {
            "room": room,
            "me": user_ref(request.user),
            "can_moderate": can_moderate(request.user, room),
            "standing": page_standing(room, request.user),
            "message_max_chars": MESSAGE_MAX_CHARS,
        },
    )
