from typing import Any

from django.apps import apps as current_apps
from django.conf import settings
from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    """Existing users get their skeleton, so new names are checked against them too."""
    from chat.domain.names import name_skeleton

    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    NameSkeleton = apps.get_model("chat", "NameSkeleton")
    name_field = current_apps.get_model(settings.AUTH_USER_MODEL).USERNAME_FIELD
    batch = []
    for pk, name in User.objects.values_list("pk", name_field).iterator(chunk_size=1000):
        batch.append(NameSkeleton(user_id=pk, skeleton=name_skeleton(name)))
        if len(batch) >= 1000:
            NameSkeleton.objects.bulk_create(batch)
            batch = []
    NameSkeleton.objects.bulk_create(batch)


class Migration(migrations.Migration):
    """Each user's name skeleton (chat/domain/names.py), for refusing look-alike names."""

    dependencies = [
        ("chat", "0004_room_overlay_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NameSkeleton",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="name_skeleton",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("skeleton", models.TextField(db_index=True)),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
