from django.apps import AppConfig


class DanmakuConfig(AppConfig):
    """Danmaku plugs into chat through chat's hooks; chat never imports danmaku."""

    name = "danmaku"
    verbose_name = "Danmaku"

    def ready(self) -> None:
        from chat.domain.posting import register_writer
        from chat.guards.bodies import add_body_limit
        from chat.management.commands.createroom import add_room_options

        from .comments import submit_danmaku
        from .room_options import VideoOptions
        from .views import IMPORT_PATH, import_body_limit

        register_writer("danmaku", submit_danmaku)  # `{"type": "danmaku"}` frames on every transport
        add_room_options(VideoOptions())  # createroom --video-url ...
        add_body_limit(IMPORT_PATH, import_body_limit)  # the XML upload is larger than chat's bodies
