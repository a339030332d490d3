#!/bin/sh
# Entrypoint of the one image: the first argument picks the role.
#   web      migrate (unless RUN_MIGRATIONS=0), then serve with gunicorn
#   worker   Celery worker
#   beat     Celery beat (the periodic-task scheduler; run exactly one)
#   migrate  apply migrations and exit
#   manage   python manage.py <remaining arguments>
#   other    run the arguments as a command (e.g. `sh`)
set -eu

cd /app

# Waits until the database answers, so a slow PostgreSQL start is a short wait rather than
# a crash loop. Bounded: after 60 tries the last error is shown and the container exits.
wait_for_database() {
    tries=0
    until output=$(python manage.py check --database default 2>&1); do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            printf '%s\n' "$output" >&2
            echo "entrypoint: the database did not answer after $tries tries; giving up." >&2
            exit 1
        fi
        echo "entrypoint: waiting for the database ($tries/60)..." >&2
        sleep 1
    done
}

role="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$role" in
    web)
        wait_for_database
        if [ "${RUN_MIGRATIONS:-1}" = "1" ]; then
            python manage.py migrate --noinput
        fi
        # gunicorn runs int() on WEB_CONCURRENCY when it is imported, so an empty value
        # (as platform/.env.example leaves it) would crash it: drop it and let
        # gunicorn.conf.py compute the default.
        if [ -z "${WEB_CONCURRENCY:-}" ]; then
            unset WEB_CONCURRENCY
        fi
        exec gunicorn config.wsgi:application -c /app/platform/gunicorn.conf.py
        ;;
    worker)
        wait_for_database
        exec celery -A config worker --loglevel=INFO --concurrency="${CELERY_CONCURRENCY:-2}"
        ;;
    beat)
        wait_for_database
        # The schedule file is scratch state: /tmp keeps it off the shared /data volume.
        exec celery -A config beat --loglevel=INFO --schedule=/tmp/celerybeat-schedule
        ;;
    migrate)
        wait_for_database
        exec python manage.py migrate --noinput
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
