from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DanmakuConfig(AppConfig):
    """Danmaku plugs into chat through chat's hooks; chat never imports danmaku."""

    name = "danmaku"
    verbose_name = _("Danmaku")

    def ready(self) -> None:
        from chat.domain.posting import register_writer
        from chat.guards.bodies import BodyRule, add_body_rule
        from chat.management.commands.createroom import add_room_options

        from .comments import submit_danmaku
        from .dplayer import DPLAYER_PATH, dplayer_error
        from .room_options import VideoOptions
        from .views import IMPORT_PATH, import_body_limit

        register_writer("danmaku", submit_danmaku)  # `{"type": "danmaku"}` frames on every transport
        add_room_options(VideoOptions())  # createroom --video-url ...
        add_body_rule(IMPORT_PATH, BodyRule(limit=import_body_limit))  # larger than chat's bodies
        add_body_rule(DPLAYER_PATH, BodyRule(error_body=dplayer_error))  # DPlayer's error shape
