"""HTTP pages and JSON endpoints of the chat app."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .errors import ChatError, room_not_found
from .eventlog import HISTORY_MAX_LIMIT, history_before
from .messages import WriteContext, submit_frame
from .models import Room, validate_room_slug
from .moderation import can_moderate, can_read, require_reader
from .params import FRAME_MAX_BYTES, SEQ_MAX, clean_nonce, parse_int, parse_json_object
from .security import ThrottledAuthenticationForm, rate_limited_json, wants_json

HISTORY_DEFAULT_LIMIT = 50


def error_response(error: ChatError, body: dict[str, Any] | None = None) -> JsonResponse:
    """The error's HTTP status, `Retry-After` when it has one, and `body` (default: the error)."""
    response = JsonResponse(error.as_dict() if body is None else body, status=error.status)
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    return response


@require_POST
def post_message_view(request: HttpRequest, slug: str) -> JsonResponse:
    """`POST /rooms/<slug>/messages` {"type", "text", "nonce", ...}: the WebSocket's write frames
    over HTTP (`type` defaults to "message"), answered with the same ack or error."""
    nonce: str | int | None = None
    try:
        room = Room.objects.filter(slug=slug).first()
        if room is None:
            raise room_not_found(slug)
        frame = json_body(request)
        nonce = clean_nonce(frame.get("nonce"))
        posted = submit_frame(room, request.user, frame, write_context(request), default_type="message")
    except ChatError as error:
        return error_response(error, {"type": "error", "nonce": nonce, **error.as_dict()})
    return JsonResponse(posted.ack(nonce))


def write_context(request: HttpRequest) -> WriteContext:
    """The client's address (daphne puts the proxy's X-Forwarded-For there with --proxy-headers)."""
    return WriteContext(ip=str(request.META.get("REMOTE_ADDR") or ""))


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body, refusing oversized bodies before reading them."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > FRAME_MAX_BYTES:
        raise ChatError("too_long", "Request bodies are limited to 64 KiB.", status=413)
    if request.content_type != "application/json":
        raise ChatError("invalid", "Send JSON with Content-Type: application/json.")
    try:
        body = request.body
    except RequestDataTooBig:  # chunked, so no Content-Length, and over Django's own ceiling
        raise ChatError("too_long", "Request bodies are limited to 64 KiB.", status=413) from None
    if len(body) > FRAME_MAX_BYTES:
        raise ChatError("too_long", "Request bodies are limited to 64 KiB.", status=413)
    return parse_json_object(body)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals: JSON with a stable code for API calls, Django's page for forms."""
    if request.content_type == "application/json" or "json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "type": "error",
                "nonce": None,
                "code": "csrf_failed",
                "message": f"CSRF check failed: {reason}",
            },
            status=403,
        )
    return django_csrf_failure(request, reason)


class LoginView(auth_views.LoginView):
    """`/accounts/login/`: Django's login form, throttled against password guessing
    (chat/security.py). A throttled attempt answers 429 with Retry-After: the form with its error,
    or for a client asking for JSON, the error `rate_limited` with `retry_after`."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: Any) -> HttpResponse:
        retry_after = getattr(form, "retry_after", None)
        if retry_after is not None and wants_json(self.request):
            return rate_limited_json(retry_after, " ".join(form.non_field_errors()))
        response = super().form_invalid(form)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response


def safe_next(request: HttpRequest) -> str | None:
    """The `next` parameter if it points into this site (never an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Public rooms, and the private rooms this user belongs to."""
    visible = Q(private=False)
    if request.user.is_authenticated:
        visible |= Q(owner=request.user) | Q(roles__user=request.user)
        if getattr(request.user, "is_staff", False):
            visible = Q()
    rooms = Room.objects.filter(visible).distinct().order_by("-last_seq", "slug")[:200]
    return render(request, "chat/home.html", {"rooms": rooms, "form": RoomForm()})


class RoomForm(forms.Form):
    slug = forms.CharField(max_length=50, validators=[validate_room_slug], label="Address")
    title = forms.CharField(max_length=200)

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if Room.objects.filter(slug=slug).exists():
            raise ValidationError("A room with this address already exists.", code="taken")
        return slug


@require_http_methods(["GET", "POST"])
def create_room(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room = Room.objects.create(
            slug=form.cleaned_data["slug"], title=form.cleaned_data["title"], owner=request.user
        )
        return redirect("room", slug=room.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "chat/create_room.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(safe_next(request) or "home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@require_GET
@ensure_csrf_cookie  # the page posts over HTTP when WebSocket is unavailable
def room_page(request: HttpRequest, slug: str) -> HttpResponse:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return render(request, "chat/room_missing.html", {"slug": slug}, status=404)
    if not can_read(request.user, room):
        return private_page(request, room)
    me: dict[str, Any] | None = None
    if request.user.is_authenticated:
        me = {"id": request.user.pk, "name": request.user.get_username()}
    return render(
        request, "chat/room.html", {"room": room, "me": me, "can_moderate": can_moderate(request.user, room)}
    )


@require_GET
def history(request: HttpRequest, slug: str) -> JsonResponse:
    """Older messages for scrollback: `?before=<seq>&limit=<n>`, newest last."""
    try:
        room = room_or_404(slug)
        require_reader(request.user, room)
        query = query_params(request)
        before = parse_int(query.get("before"), "before", low=1, high=SEQ_MAX)
        limit = parse_int(query.get("limit"), "limit", low=1, high=HISTORY_MAX_LIMIT)
    except ChatError as error:
        return error_response(error)
    events, has_more = history_before(room.pk, before, limit or HISTORY_DEFAULT_LIMIT)
    return JsonResponse({"events": events, "last_seq": room.last_seq, "has_more": has_more})


def room_or_404(slug: str) -> Room:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise room_not_found(slug)
    return room


def readable_room(request: HttpRequest, slug: str) -> Room:
    """The room, if this request may read it: ChatError room_not_found or private_room."""
    room = room_or_404(slug)
    require_reader(request.user, room, query_params(request).get("key"))
    return room


def query_params(request: HttpRequest) -> QueryDict:
    """`request.GET`, or ChatError("invalid") for more parameters than Django will parse
    (DATA_UPLOAD_MAX_NUMBER_FIELDS): its own refusal is an HTML page, and a 500 under DEBUG."""
    try:
        return request.GET
    except TooManyFieldsSent:
        raise ChatError("invalid", "Too many query parameters.") from None


def moderators_page_room(request: HttpRequest, slug: str, refusal: str) -> Room | HttpResponse:
    """The room of a page only its moderators may open, or the answer for anyone else: 404 for
    no room, the login page for a guest, 403 with `refusal` for a non-moderator."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return render(request, "chat/room_missing.html", {"slug": slug}, status=404)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    if not can_moderate(request.user, room):
        return HttpResponse(refusal, status=403, content_type="text/plain")
    return room


def private_page(request: HttpRequest, room: Room) -> HttpResponse:
    """The page a non-member gets for a private room (signed out: the way to sign in)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    return render(request, "chat/room_private.html", {"room": room}, status=403)
