# The two commands the README promises. Both install what a fresh Debian machine lacks (deploy/bootstrap.sh).
.PHONY: demo test down status lint bench

demo:  ## install, start Kafka + PostGIS + worker + API, publish and load the demo feeds
	bash deploy/bootstrap.sh
	.venv/bin/hub demo

test:  ## install, lint, check the import direction and type-check, then run the whole suite (unit + integration) on the real broker and database
	bash deploy/bootstrap.sh
	.venv/bin/ruff check .
	.venv/bin/python tools/import_matrix.py
	.venv/bin/mypy
	.venv/bin/python -m pytest

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
