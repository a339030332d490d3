from django.apps import AppConfig


class SeedsConfig(AppConfig):
    name = "seeds"
    verbose_name = "Seeds"

    def ready(self) -> None:
        from seeds import audit_actions  # noqa: F401  (registers this app's actions)
        from seeds.simulation.dataset import register

        register()
