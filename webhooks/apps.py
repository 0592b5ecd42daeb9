from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Webhooks listen to chat's committed events through chat's hook; chat never imports them."""

    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from chat.domain.eventlog import add_commit_listener
        from chat.web.moderation import add_page_notices

        from .runner import notices
        from .views import disabled_notices

        add_commit_listener(notices.add)  # a room id per commit, to the nudge thread
        add_page_notices(disabled_notices)  # "Webhook ... was turned off" on the moderator's page
