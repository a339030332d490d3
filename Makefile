# Early Access: the commands the README promises. `make` alone lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements-dev.lock

.DEFAULT_GOAL := help
.PHONY: help install demo test lint format docs bench check-deploy clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (found %s); run: make PYTHON=python3.11 ..." % sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	touch $@

install: $(VENV)/.installed ## Create .venv with the locked dependencies

demo: install ## Run the platform with demo data at http://127.0.0.1:8000 (SQLite, real worker)
	$(BIN)/python manage.py demo

test: install ## Run the test suite (PostgreSQL/Redis/Chromium when configured, else SQLite)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install ## ruff, and the data dictionaries (audit events, datasets) are current
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py audit_docs --check
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py datasets_docs --check

format: install ## Fix what ruff can fix
	$(BIN)/ruff check --fix .

docs: install ## Regenerate docs/audit-events.md and docs/datasets.md from their registries
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py audit_docs
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py datasets_docs

bench: install ## Run the benchmarks (each prints its figure as a ratio to a baseline)
	@for script in bench/[!_]*.py; do echo "== $$script"; DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python $$script || exit 1; done

check-deploy: install ## Django's deployment checks against the production settings
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=check-only-$$(date +%s)-not-a-real-secret-key-just-long-enough \
	AUDIT_SIGNING_KEY=$$($(BIN)/python -c "import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())") \
	RESEARCH_PSEUDONYM_KEY=check-only-$$(date +%s) \
	DJANGO_ALLOWED_HOSTS=early-access.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

clean: ## Remove the virtual environment and the local data in var/
	rm -rf $(VENV) var staticfiles
