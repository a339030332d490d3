#!/usr/bin/env python
"""Django's command-line utility for the Early Access platform."""

import os
import sys


def main() -> None:
    # Local development is the default for manage.py; deployments set
    # DJANGO_SETTINGS_MODULE=config.settings.production (the Dockerfile does).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
