"""What the tests share, imported as ``support.NAME`` (``tests/`` is on ``sys.path``:
``pythonpath`` in pyproject.toml): not tests and not conftests.  tests/README.md lists them."""
