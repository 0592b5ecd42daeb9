import chat.models
from django.db import migrations, models


def distinct_epochs(apps, schema_editor):  # type: ignore[no-untyped-def]
    """AddField gives every existing room the same default: one epoch each instead."""
    Room = apps.get_model("chat", "Room")
    for pk in Room.objects.values_list("pk", flat=True):
        Room.objects.filter(pk=pk).update(log_epoch=chat.models.new_log_epoch())


class Migration(migrations.Migration):
    """Each room's log epoch (docs/PROTOCOL.md, "Log epochs")."""

    dependencies = [
        ("chat", "0005_nameskeleton"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="log_epoch",
            field=models.CharField(default=chat.models.new_log_epoch, editable=False, max_length=16),
        ),
        migrations.RunPython(distinct_epochs, migrations.RunPython.noop),
    ]
