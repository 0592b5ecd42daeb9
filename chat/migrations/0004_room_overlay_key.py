from django.db import migrations, models


class Migration(migrations.Migration):
    """The overlay key moves from danmaku's RoomVideo onto the room: one access rule in chat.
    danmaku's migration 0002 copies the existing keys, so overlay addresses keep working."""

    dependencies = [
        ("chat", "0003_moderation"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="overlay_key",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
