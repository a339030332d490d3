from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and program"

    def ready(self) -> None:
        from accounts import audit_actions  # noqa: F401  (registers this app's actions)
