from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0011_chat_delay"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="log_reserved_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
