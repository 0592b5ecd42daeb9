from django.apps import AppConfig


class DanmakuConfig(AppConfig):
    name = "danmaku"
    verbose_name = "Danmaku"

    def ready(self) -> None:
        from chat.messages import register_writer

        from .comments import submit_danmaku

        register_writer("danmaku", submit_danmaku)
