# The two commands the README promises. Both install what a fresh Debian machine lacks (deploy/bootstrap.sh).
.PHONY: demo test faults down status lint bench

demo:  ## install, start Kafka + PostGIS + worker + API, publish and load the demo feeds
	bash deploy/bootstrap.sh
	.venv/bin/hub demo

test:  ## install, lint, check the import direction and type-check, then run the whole suite (unit + integration) on the real broker and database, then the fault suite
	bash deploy/bootstrap.sh
	.venv/bin/ruff check .
	.venv/bin/python tools/import_matrix.py
	.venv/bin/mypy
	.venv/bin/python -m pytest -n $(TEST_PROCESSES) --dist loadfile
	$(MAKE) faults

# The main session runs on this many processes (pytest-xdist; each module's tests stay in one process), each on an
# embedded broker and database of its own (tests/conftest.py); the machine this is sized for has 2 cores.
TEST_PROCESSES ?= 2

# The fault suite (tests/faults): kills and restarts its own embedded broker and database, so it runs alone, on its
# own home and ports; -s shows each case's line of figures.
FAULTS_ENV = HUB_TEST_FAULTS=1 HUB_LOCAL_HOME=.hub-faults HUB_LOCAL_KAFKA_PORT=19192 \
	HUB_LOCAL_KAFKA_CONTROLLER_PORT=19193 HUB_LOCAL_PG_PORT=25532

faults:  ## the fault suite alone: worker, broker and database killed, stopped and frozen under load; audited
	$(FAULTS_ENV) .venv/bin/python -m pytest -s tests/faults

down:
	.venv/bin/hub down

status:
	.venv/bin/hub status

lint:
	.venv/bin/ruff check .
	.venv/bin/python tools/import_matrix.py
	.venv/bin/mypy

bench:
	.venv/bin/python benchmarks/end_to_end.py
