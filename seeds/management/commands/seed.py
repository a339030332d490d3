"""``manage.py seed``: fill the platform with the demo program and print the logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from seeds.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo program (cohorts, staff, testers) through the real services."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="early-access-demo",
                            help="Password for every demo account (default: %(default)s).")
        parser.add_argument("--clips", type=int, default=settings.DEMO_SEED_CLIPS_PER_TESTER,
                            help="Generated clips per demo tester (default: %(default)s).")

    def handle(self, *args, password: str, clips: int, **options):
        if not settings.DEMO_SEED_ALLOWED:
            raise CommandError("Refusing to create demo accounts with known passwords under "
                               "these settings (DEMO_SEED_ALLOWED is off).")
        logins = seed_demo(password=password, clips_per_tester=clips)
        self.stdout.write(self.style.SUCCESS("Demo program ready. Sign in with:"))
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username:<{width}}  {password}   "
                              f"{login.roles} · {login.cohort}")
