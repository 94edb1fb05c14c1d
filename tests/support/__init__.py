"""Test helpers shared by several test packages (importable as ``support.*`` because
pytest puts ``tests/`` on ``sys.path`` for the root conftest)."""
