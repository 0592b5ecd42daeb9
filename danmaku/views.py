"""The watch and overlay pages, the time-window API, viewer settings and the owner's video page."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from chat.errors import ChatError, login_required
from chat.eventlog import current_last_seq
from chat.models import Room
from chat.moderation import can_moderate, can_read
from chat.params import parse_int
from chat.views import (
    error_response,
    json_body,
    moderators_page_room,
    private_page,
    query_params,
    readable_room,
)
from chat.wire import dumps, user_ref

from .models import RoomVideo, ViewerSettings, new_overlay_key
from .options import clean_viewer_settings, parse_overlay_options
from .timeline import WINDOW_DEFAULT_LIMIT, WINDOW_MAX_LIMIT, comments_in_window, current_video


def _page_context(request: HttpRequest, room: Room) -> dict[str, Any]:
    video = current_video(room)
    return {
        "room": room,
        "video": video if video is not None and video.has_video else None,
        "me": user_ref(request.user),
    }


@require_GET
@ensure_csrf_cookie  # the page posts over HTTP when WebSocket is unavailable
def watch(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/watch`: the video with comments flying over it, the chat beside it."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return render(request, "chat/room_missing.html", {"slug": slug}, status=404)
    if not can_read(request.user, room):
        return private_page(request, room)
    saved = None
    if request.user.is_authenticated:
        saved = ViewerSettings.objects.filter(user=request.user).values_list("data", flat=True).first()
    return render(
        request,
        "danmaku/watch.html",
        {
            **_page_context(request, room),
            "viewer_settings": saved,
            "is_owner": can_moderate(request.user, room),
            "settings_url": reverse("danmaku_settings"),
            "video_admin_url": reverse("room_video", kwargs={"slug": room.slug}),
        },
    )


@require_GET
def overlay(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/overlay`: transparent, read-only, for an OBS browser source."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return render(request, "chat/room_missing.html", {"slug": slug}, status=404)
    try:
        query = query_params(request)
    except ChatError as error:
        return HttpResponse(f"Bad overlay option: {error.message}", status=400, content_type="text/plain")
    video = current_video(room)
    required = video.overlay_key if video is not None else ""
    given = query.get("key", "")
    key_ok = bool(required) and secrets.compare_digest(given.encode(), required.encode())
    if (required and not key_ok) or not (key_ok or can_read(request.user, room)):
        return HttpResponse(
            "This overlay needs the key from the room owner's overlay address.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    try:
        options = parse_overlay_options(query)
    except ChatError as error:
        return HttpResponse(f"Bad overlay option: {error.message}", status=400, content_type="text/plain")
    response = render(request, "danmaku/overlay.html", {**_page_context(request, room), "options": options})
    # OBS (and any embedder the owner allows) frames it; the key is what keeps strangers out.
    response.xframe_options_exempt = True
    return response


@require_GET
def window(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /rooms/<slug>/danmaku?from_ms=&to_ms=&limit=`: comments of the current video whose
    position is in [from_ms, to_ms), ordered by position (then seq)."""
    try:
        room = readable_room(request, slug)
        from_ms = parse_int(request.GET.get("from_ms"), "from_ms", low=0, high=2**53) or 0
        to_ms = parse_int(request.GET.get("to_ms"), "to_ms", low=0, high=2**53)
        limit = parse_int(request.GET.get("limit"), "limit", low=1, high=WINDOW_MAX_LIMIT)
        if to_ms is None:
            to_ms = 2**53
        if to_ms < from_ms:
            raise ChatError("invalid", "to_ms must not be less than from_ms.", field="to_ms")
    except ChatError as error:
        return error_response(error)
    events, more = comments_in_window(room, from_ms, to_ms, limit or WINDOW_DEFAULT_LIMIT)
    body = {"events": events, "from_ms": from_ms, "to_ms": to_ms, "more": more, "last_seq": room.last_seq}
    return HttpResponse(dumps(body).encode(), content_type="application/json")


@require_http_methods(["GET", "PUT"])
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
        required=False, max_length=2000, assume_scheme="https", label="Video address (http or https)"
    )

    class Meta:
        model = RoomVideo
        fields = ["url", "title", "duration_ms", "live"]
        labels = {"duration_ms": "Duration (ms, optional)", "live": "Live stream"}

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Use an http or https address.", code="scheme")
        return url


@require_http_methods(["GET", "POST"])
def room_video(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/video`: the owner sets the room's video and manages the overlay key."""
    room = moderators_page_room(request, slug, "Only the room's moderators may change its video.")
    if isinstance(room, HttpResponse):
        return room
    video = RoomVideo.objects.filter(room=room).first() or RoomVideo(room=room)
    form = VideoForm(instance=video)
    if request.method == "POST":
        action = request.POST.get("action", "video")
        if action == "rotate-key":
            video.overlay_key = new_overlay_key()
            video.save()
            return redirect("room_video", slug=room.slug)
        if action == "clear-key":
            video.overlay_key = ""
            video.save()
            return redirect("room_video", slug=room.slug)
        form = VideoForm(request.POST, instance=video)
        if form.is_valid():
            set_video(room, video, form.cleaned_data)
            return redirect("room_video", slug=room.slug)
    overlay_url = request.build_absolute_uri(reverse("overlay", kwargs={"slug": room.slug}))
    if video.overlay_key:
        overlay_url += f"?key={video.overlay_key}"
    return render(
        request,
        "danmaku/video.html",
        {"room": room, "form": form, "video": video, "overlay_url": overlay_url},
        status=400 if form.errors else 200,
    )


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
    """`POST /rooms/<slug>/mod/import` (multipart, field `file`): a Bilibili XML file's comments
    join the room's recorded video, all or nothing; answers with the import report."""
    from django.conf import settings

    from chat.moderation import audit, require_moderator

    from .bilibili import XmlRefused, import_xml

    try:
        room = Room.objects.filter(slug=slug).first()
        if room is None:
            raise ChatError("room_not_found", f"There is no room {slug!r}.", status=404)
        require_moderator(request.user, room)
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.DANMAKU_IMPORT_MAX_BYTES + 64 * 1024:
            raise ChatError("too_long", "The file is too large to import.", status=413)
        upload = request.FILES.get("file")
        if upload is None:
            raise ChatError("invalid", "Send the XML file in the form field `file`.", field="file")
        try:
            report = import_xml(room, upload)
        except XmlRefused as error:
            raise ChatError("invalid_xml", str(error)) from None
        audit(room, request.user, "import", imported=report.imported, skipped=dict(report.skipped))
    except ChatError as error:
        return error_response(error)
    return JsonResponse(
        {"imported": report.imported, "skipped": dict(report.skipped), "last_seq": report.last_seq}
    )
