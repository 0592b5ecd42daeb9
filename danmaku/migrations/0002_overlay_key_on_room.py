from typing import Any

from django.db import migrations


def copy_keys_to_rooms(apps: Any, schema_editor: Any) -> None:
    """Every room's overlay key, from its video onto the room itself (existing overlay URLs
    carry it, so they keep working)."""
    room_model = apps.get_model("chat", "Room")
    video_model = apps.get_model("danmaku", "RoomVideo")
    for room_id, key in video_model.objects.exclude(overlay_key="").values_list("room_id", "overlay_key"):
        room_model.objects.filter(pk=room_id).update(overlay_key=key)


def copy_keys_to_videos(apps: Any, schema_editor: Any) -> None:
    room_model = apps.get_model("chat", "Room")
    video_model = apps.get_model("danmaku", "RoomVideo")
    for room_id, key in room_model.objects.exclude(overlay_key="").values_list("pk", "overlay_key"):
        video_model.objects.update_or_create(room_id=room_id, defaults={"overlay_key": key})


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_room_overlay_key"),
        ("danmaku", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_keys_to_rooms, copy_keys_to_videos),
        migrations.RemoveField(model_name="roomvideo", name="overlay_key"),
    ]
