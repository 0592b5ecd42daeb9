"""The watch and overlay pages, the time-window API, viewer settings and the owner's video page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_safe

from chat.domain.access import can_appoint, can_moderate, can_open_overlay, require_moderator
from chat.domain.audit import audit
from chat.domain.eventlog import current_last_seq
from chat.domain.inputs import JS_SAFE_INTEGER_LIMIT, parse_int
from chat.domain.moderation.roles import set_embed_origin, set_overlay_key
from chat.domain.rooms import find_room, get_room
from chat.domain.wire import dumps, size_label, user_ref
from chat.errors import ChatError, Text, error_response, login_required
from chat.models import Room
from chat.web.errors import safe_error_page
from chat.web.http import (
    json_body,
    moderators_page_room,
    query_params,
    readable_room,
    readers_page_room,
    room_missing_page,
)
from chat.web.language import supported

from .comments import DANMAKU_MAX_CHARS
from .models import RoomVideo, ViewerSettings
from .options import clean_viewer_settings, parse_overlay_options
from .timecode import format_duration, parse_duration
from .timeline import (
    DENSITY_DEFAULT_BUCKETS,
    DENSITY_MAX_BUCKETS,
    WINDOW_DEFAULT_LIMIT,
    WINDOW_MAX_LIMIT,
    comments_in_window,
    current_video,
    density,
)

# What the overlay's 403 page says to whoever opens it without the room's key.
OVERLAY_KEY_NEEDED = _("This overlay needs the key from the room owner's overlay address.")
# An upload's body is its file plus the form's boundaries and headers: a few hundred bytes.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# The path of `import_upload` (danmaku/urls.py), whose bodies may be as large as an import.
IMPORT_PATH = r"/rooms/[^/]+/mod/import"


def import_body_limit() -> int:
    """The largest body `import_upload` takes: the import's limit and the form around it."""
    return int(settings.DANMAKU_IMPORT_MAX_BYTES) + MULTIPART_OVERHEAD_BYTES


def _page_context(request: HttpRequest, room: Room) -> dict[str, Any]:
    video = current_video(room)
    return {
        "room": room,
        "video": video if video is not None and video.has_video else None,
        # Marked live, with no video to play: the page says so rather than "no video yet".
        "live_room": video is not None and video.live and not video.has_video,
        "me": user_ref(request.user),
    }


@require_safe
@ensure_csrf_cookie  # the page posts over HTTP when WebSocket is unavailable
def watch(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/watch`: the video with comments flying over it, the chat beside it."""
    room = readers_page_room(request, slug)
    if isinstance(room, HttpResponse):
        return room
    saved = None
    if request.user.is_authenticated:
        saved = ViewerSettings.objects.filter(user=request.user).values_list("data", flat=True).first()
    return render(
        request,
        "danmaku/watch.html",
        {
            **_page_context(request, room),
            "viewer_settings": saved,
            "is_owner": can_appoint(request.user, room),
            "can_post_positioned": can_moderate(request.user, room),
            "comment_max_chars": DANMAKU_MAX_CHARS,
            "settings_url": reverse("danmaku_settings"),
            "video_admin_url": reverse("room_video", kwargs={"slug": room.slug}),
        },
    )


def bad_option(error: ChatError) -> str:
    """The overlay page's refusal of an option, in the page's language."""
    return str(Text(_("Bad overlay option: %(reason)s"), reason=error.message))


@require_safe
def overlay(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/overlay`: transparent, read-only, for an OBS browser source."""
    room = find_room(slug)
    if room is None:
        return room_missing_page(request, slug)
    # Refusals are the site's error pages: whoever pastes the address into a browser to try it
    # gets the header and a way back (OBS shows the same words).
    try:
        query = query_params(request)
    except ChatError as error:
        return safe_error_page(request, 400, bad_option(error))
    if not can_open_overlay(request.user, room, query.get("key")):
        return safe_error_page(request, 403, str(OVERLAY_KEY_NEEDED))
    try:
        options = parse_overlay_options(query)
    except ChatError as error:
        return safe_error_page(request, 400, bad_option(error))
    # `lang`: OBS's browser source asks in the system's language; the owner may pick another.
    language = supported(query.get("lang")) or translation.get_language()
    with translation.override(language):
        context = {**_page_context(request, room), "options": options}
        response = render(request, "danmaku/overlay.html", context)
    response["Content-Language"] = language
    # OBS (and any embedder the owner allows) frames it; the key is what keeps strangers out.
    response.xframe_options_exempt = True
    return response


@require_safe
def window(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /rooms/<slug>/danmaku?from_ms=&to_ms=&limit=`: comments of the current video whose
    position is in [from_ms, to_ms), ordered by position (then seq)."""
    try:
        room = readable_room(request, slug)
        query = query_params(request)
        from_ms = parse_int(query.get("from_ms"), "from_ms", low=0, high=JS_SAFE_INTEGER_LIMIT) or 0
        to_ms = parse_int(query.get("to_ms"), "to_ms", low=0, high=JS_SAFE_INTEGER_LIMIT)
        limit = parse_int(query.get("limit"), "limit", low=1, high=WINDOW_MAX_LIMIT)
        if to_ms is None:
            to_ms = JS_SAFE_INTEGER_LIMIT
        if to_ms < from_ms:
            raise ChatError("invalid", _("to_ms must not be less than from_ms."), field="to_ms")
    except ChatError as error:
        return error_response(error)
    events, more = comments_in_window(room, from_ms, to_ms, limit or WINDOW_DEFAULT_LIMIT)
    body = {"events": events, "from_ms": from_ms, "to_ms": to_ms, "more": more, "last_seq": room.last_seq}
    return HttpResponse(dumps(body).encode(), content_type="application/json")


@require_safe
def density_view(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /rooms/<slug>/danmaku/density?buckets=`: the current video's comments counted per
    bucket of its position, for the seek bar's curve."""
    try:
        room = readable_room(request, slug)
        buckets = parse_int(query_params(request).get("buckets"), "buckets", low=1, high=DENSITY_MAX_BUCKETS)
    except ChatError as error:
        return error_response(error)
    body = {**density(room, buckets or DENSITY_DEFAULT_BUCKETS), "last_seq": room.last_seq}
    return HttpResponse(dumps(body).encode(), content_type="application/json")


@require_http_methods(["GET", "HEAD", "PUT"])
def viewer_settings(request: HttpRequest) -> JsonResponse:
    """`GET|PUT /danmaku/settings`: the signed-in viewer's settings (PUT replaces them)."""
    try:
        if not request.user.is_authenticated:
            raise login_required()
        if request.method == "PUT":
            data = clean_viewer_settings(json_body(request).get("settings"))
            ViewerSettings.objects.update_or_create(
                user=request.user, defaults={"data": data, "updated_at": timezone.now()}
            )
            return JsonResponse({"settings": data})
    except ChatError as error:
        return error_response(error)
    saved = ViewerSettings.objects.filter(user=request.user).values_list("data", flat=True).first()
    return JsonResponse({"settings": saved or {}})


class VideoForm(forms.ModelForm):
    url = forms.URLField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        label=gettext_lazy("Video address (http or https)"),
    )
    # Entered as people write it (h:m:s), stored in milliseconds.
    duration = forms.CharField(
        required=False,
        max_length=20,
        label=gettext_lazy("Duration (optional)"),
        help_text=gettext_lazy("hours:minutes:seconds, for example 1:23:45 or 23:45"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "1:23:45"}),
    )

    class Meta:
        model = RoomVideo
        fields = ["url", "title", "live"]
        labels = {"title": gettext_lazy("Title"), "live": gettext_lazy("Live stream")}
        # The model's help text, in the page's language (the model's own stays as it is: no migration).
        help_texts = {"live": gettext_lazy("A live stream: comments carry no video time.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duration"].initial = format_duration(self.instance.duration_ms)
        self.order_fields(["url", "title", "duration", "live"])

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(translation.gettext("Use an http or https address."), code="scheme")
        return url

    def clean_duration(self) -> int | None:
        try:
            return parse_duration(self.cleaned_data["duration"])
        except ValueError as error:
            raise forms.ValidationError(str(error), code="duration") from None

    def video_fields(self) -> dict[str, Any]:
        """The cleaned fields under RoomVideo's names (set_video)."""
        fields = dict(self.cleaned_data)
        fields["duration_ms"] = fields.pop("duration")
        return fields


# What the page confirms after a change was saved (?saved=, set by the redirect after a POST).
SAVED_NOTES = {
    "video": "Video saved.",
    "key": "Overlay key changed: the old overlay address no longer works.",
    "origin": "Embedding site saved.",
}


@require_http_methods(["GET", "HEAD", "POST"])
def room_video(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/video`: the owner (or staff) sets the room's video and manages the overlay
    key; moderators may not (docs/OPERATIONS.md). Every change goes into the audit log."""
    refusal = translation.gettext("Only the room's owner may change its video and overlay key.")
    room = moderators_page_room(request, slug, refusal, owner_only=True)
    if isinstance(room, HttpResponse):
        return room
    video = RoomVideo.objects.filter(room=room).first() or RoomVideo(room=room)
    form = VideoForm(instance=video)
    origin_error = ""
    if request.method == "POST":
        action = request.POST.get("action", "video")
        if action in ("rotate-key", "clear-key"):
            set_overlay_key(room, request.user, rotate=action == "rotate-key")
            return redirect(f"{reverse('room_video', kwargs={'slug': room.slug})}?saved=key")
        if action == "embed-origin":
            try:
                set_embed_origin(room, request.user, request.POST.get("origin", ""))
            except ChatError as error:
                origin_error = error.message
            else:
                return redirect(f"{reverse('room_video', kwargs={'slug': room.slug})}?saved=origin")
        else:
            form = VideoForm(request.POST, instance=video)
        if action != "embed-origin" and form.is_valid():
            with transaction.atomic():
                set_video(room, video, form.video_fields())
                audit(room, request.user, "video", **video_detail(video))
            return redirect(f"{reverse('room_video', kwargs={'slug': room.slug})}?saved=video")
    overlay_url = request.build_absolute_uri(reverse("overlay", kwargs={"slug": room.slug}))
    if room.overlay_key:
        overlay_url += f"?key={room.overlay_key}"
    return render(
        request,
        "danmaku/video.html",
        {
            "room": room,
            "form": form,
            "video": video,
            "overlay_url": overlay_url,
            "origin_error": origin_error,
            "saved": SAVED_NOTES.get(request.GET.get("saved", "")) if request.method != "POST" else None,
        },
        status=400 if form.errors or origin_error else 200,
    )


def video_detail(video: RoomVideo) -> dict[str, Any]:
    """What the audit log keeps of a video change."""
    return {"url": video.url, "title": video.title, "duration_ms": video.duration_ms, "live": video.live}


def set_video(room: Room, video: RoomVideo, fields: dict[str, Any]) -> RoomVideo:
    """Point the room at a (new) video; a different address starts a fresh comment timeline."""
    if fields.get("url", video.url) != video.url or fields.get("live", video.live) != video.live:
        video.since_seq = current_last_seq(room.pk)
    for name in ("url", "title", "duration_ms", "live"):
        if name in fields:
            setattr(video, name, fields[name])
    video.updated_at = timezone.now()
    video.save()
    return video


@require_http_methods(["POST"])
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """`POST /rooms/<slug>/mod/import` (multipart, field `file`): a Bilibili or Niconico XML file's comments
    join the room's recorded video, all or nothing; answers with the import report."""
    from .bilibili import XmlRefused
    from .imports import import_xml

    try:
        room = get_room(slug)
        require_moderator(request.user, room)
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > import_body_limit():
            limit = size_label(settings.DANMAKU_IMPORT_MAX_BYTES)
            raise ChatError(
                "too_long",
                _("The file is too large to import: the limit is %(limit)s."),
                params={"limit": limit},
                status=413,
            )
        upload = request.FILES.get("file")
        if upload is None:
            raise ChatError("invalid", _("Send the XML file in the form field `file`."), field="file")
        try:
            report = import_xml(room, upload, user=request.user)
        except XmlRefused as error:
            raise ChatError(error.code, error.message) from None
        audit(room, request.user, "import", imported=report.imported, skipped=dict(report.skipped))
    except ChatError as error:
        return error_response(error)
    return JsonResponse(
        {
            "imported": report.imported,
            "skipped": dict(report.skipped),
            "last_seq": report.last_seq,
            "format": report.format,
            "ignored_commands": dict(report.ignored_commands),
        }
    )
