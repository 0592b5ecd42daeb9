# The two quick-start commands: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make test` runs these a second time on this PostgreSQL server: every unit test, and the
# end-to-end runs of several daphne processes on Redis and of the faults (the production setup).
POSTGRES_TEST_URL ?= postgres://postgres@127.0.0.1:5432/chat
POSTGRES_SUITES = tests/chat tests/danmaku tests/webhooks tests/test_deploy_settings.py tests/e2e/test_multiprocess.py tests/e2e/test_faults.py tests/e2e/test_chat_delay_processes.py

.PHONY: run test jstest lint browser nginx pushpin coturn icu gettext messages translations bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# PyICU (requirements.txt) compiles against the system's ICU.
icu:
	@pkg-config --exists icu-i18n 2>/dev/null && command -v g++ >/dev/null 2>&1 || { \
		echo "Installing Debian's libicu-dev, pkg-config and g++ to build PyICU"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends libicu-dev pkg-config g++; }

# The translations (locale/*/LC_MESSAGES/*.po) are compiled with GNU gettext, which also
# extracts the strings (`make translations`, and the test that every string is translated).
gettext:
	@command -v msgfmt >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1 || { \
		echo "Installing Debian's gettext for the translations"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends gettext; }

$(VENV)/.runtime: requirements.txt | icu $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | icu $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Compiled catalogs, rebuilt when a .po changes.
messages: gettext $(VENV)/.runtime
	$(BIN)/python manage.py compilemessages --ignore=$(VENV) >/dev/null

# After changing a string: the catalogs extracted again from templates/, the Python code and
# static/js (new strings appear untranslated; the translation test fails until they are filled).
translations: gettext $(VENV)/.runtime
	$(BIN)/python manage.py makemessages $(MESSAGE_ARGS) -e html,py
	$(BIN)/python manage.py makemessages $(MESSAGE_ARGS) -d djangojs
MESSAGE_ARGS = -l zh_Hans -l ja --no-obsolete --ignore=$(VENV) --ignore=node_modules --ignore=staticfiles --ignore=tests --ignore=bench

run: $(VENV)/.runtime messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createroom demo --title "Demo room" --exist-ok
	$(BIN)/python -m config.serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }
	@test -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || { \
		echo "Installing Debian's fonts-noto-cjk so the browser tests draw Chinese and Japanese"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends fonts-noto-cjk; }

# The reverse-proxy test runs Debian's nginx in front of daphne (deploy/nginx.conf).
nginx:
	@test -x /usr/sbin/nginx || { \
		echo "Installing Debian's nginx for the reverse-proxy test"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends nginx; }

# The GRIP tests run Debian's Pushpin (and the zurl it depends on) in front of daphne
# (deploy/pushpin.conf, tests/e2e/test_pushpin.py).
pushpin:
	@test -x /usr/bin/pushpin && test -x /usr/bin/zurl || { \
		echo "Installing Debian's pushpin for the GRIP tests"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends pushpin; }

# The call tests relay media through Debian's coturn (started by the test on free ports).
coturn:
	@test -x /usr/bin/turnserver || { \
		echo "Installing Debian's coturn for the call tests"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends coturn; }

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

# Every core runs the tests (pytest-xdist, one test file per worker at a time); those marked
# `alone` measure time or memory under load, or restart servers, so they run afterwards by
# themselves, one at a time. Each run lists its slowest tests: where the time goes.
PARALLEL = -n auto --maxprocesses 4 --dist loadfile --durations=15

test: $(VENV)/.dev messages browser nginx pushpin coturn lint jstest
	$(BIN)/pytest $(PARALLEL) -m "not alone"
	$(BIN)/pytest -m alone --durations=10
	DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest $(PARALLEL) -m "not alone" $(POSTGRES_SUITES)
	DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest -m alone --durations=10 $(POSTGRES_SUITES)

# The browser modules' unit tests under Node's own test runner (Node 20, no npm packages). The
# files are listed here because Node 20's --test does not expand a glob itself; detect-module
# lets Node 20 before 20.19 load static/js's ES modules, which have no package.json.
JS_TESTS = $(sort $(shell find tests/js -name '*.test.js'))

jstest:
	@test -n "$(JS_TESTS)" || { echo "no tests under tests/js"; exit 1; }
	node --experimental-detect-module --test $(JS_TESTS)

# Starts its own servers; about twelve minutes; rewrites the generated part of docs/BENCHMARKS.md.
bench: $(VENV)/.dev
	$(BIN)/python -m bench.run --write docs/BENCHMARKS.md default

# The README's pictures: the room, watch and moderator pages in both themes, on seeded demo
# content, into docs/screenshots/ (about half a minute; tests/e2e/test_screenshots_browser.py runs it too).
screenshots: $(VENV)/.dev browser
	$(BIN)/python -m bench.screenshots --out docs/screenshots

clean:
	rm -rf $(VENV) .test-db.sqlite3* .pytest_cache .mypy_cache .ruff_cache
