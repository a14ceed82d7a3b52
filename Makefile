# The two set-up commands are `make demo` and `make test`; everything else is for developers and operators.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
STAMP := $(VENV)/.installed
DEMO_DB := instance/demo.sqlite
export FLASK_APP := webapp

.PHONY: install translations demo serve test bench lint format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(VENV)/bin/pybabel -q compile -d webapp/translations

# The demo serves plain HTTP on the loopback address, so its session cookie cannot be Secure-only there.
DEMO_ENV := WEBAPP_DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) WEBAPP_UPLOAD_DIR=$(CURDIR)/instance/demo-uploads \
	WEBAPP_COOKIE_SECURE=0

demo: install
	mkdir -p instance
	rm -rf $(DEMO_DB) instance/demo-uploads
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) seed units
	$(DEMO_ENV) $(FLASK) seed demo
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

# Production: several gunicorn workers (or several hosts) share one PostgreSQL and one upload folder.
serve: install
	$(FLASK) db upgrade
	$(VENV)/bin/gunicorn --workers $${WORKERS:-4} --bind $${BIND:-127.0.0.1:8000} 'webapp:create_app()'

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/bench_scoring.py
	$(PY) bench/bench_exports.py

lint: install
	$(VENV)/bin/ruff check scoring webapp tests bench
	$(VENV)/bin/ruff format --check scoring webapp tests bench

format: install
	$(VENV)/bin/ruff format scoring webapp tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
