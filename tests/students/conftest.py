"""Sample student files for the ``check`` command tests: never collected or imported by
pytest (``--doctest-modules`` would import them, and ``hanging.py`` never returns)."""

collect_ignore_glob = ["*.py"]
