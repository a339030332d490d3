"""``manage.py demo``: migrate, seed, then run the web server and a real Celery worker."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the platform with demo data: web server and Celery worker side by side."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr: str, **options):
        if not settings.DEMO_SEED_ALLOWED:
            raise CommandError("The demo runs only with local settings.")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed")
        # Fixed argument lists: nothing here comes from outside the command line.
        # One process runs the worker and, embedded, beat (the periodic sweep).
        worker_command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat",
                          f"--schedule={settings.VAR_DIR / 'celerybeat-schedule'}",
                          "--loglevel=INFO", "--concurrency=2"]
        web_command = [sys.executable, "manage.py", "runserver", addr, "--noreload"]
        worker = subprocess.Popen(worker_command)  # noqa: S603
        web = subprocess.Popen(web_command)  # noqa: S603
        self.stdout.write(self.style.SUCCESS(
            f"Early Access is at http://{addr}/ (Ctrl-C stops the web server and the worker)."))
        children = [web, worker]
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [child.args[2] for child in children if child.returncode not in (0, -15, None)]
        if failed:
            raise CommandError(f"stopped because a process exited: {failed}")
