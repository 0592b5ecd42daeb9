"""Danmaku routes: pages, the time-window API, viewer settings, DPlayer and Bilibili XML."""

from __future__ import annotations

from django.urls import path

from . import bilibili, dplayer, views

urlpatterns = [
    path("rooms/<slug:slug>/watch", views.watch, name="watch"),
    path("rooms/<slug:slug>/overlay", views.overlay, name="overlay"),
    path("rooms/<slug:slug>/video", views.room_video, name="room_video"),
    path("rooms/<slug:slug>/danmaku", views.window, name="danmaku_window"),
    path("rooms/<slug:slug>/danmaku/density", views.density_view, name="danmaku_density"),
    path("rooms/<slug:slug>/danmaku.xml", bilibili.export_view, name="danmaku_xml"),
    path("rooms/<slug:slug>/mod/import", views.import_upload, name="mod_import"),
    path("danmaku/settings", views.viewer_settings, name="danmaku_settings"),
    path("dplayer/v3/", dplayer.endpoint, name="dplayer"),
]
