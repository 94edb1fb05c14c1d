"""The ``devkit`` command line: parses flags into typed config, calls the layers below,
prints results, and turns :class:`devkit.errors.DevkitError` into one stderr sentence and
a named exit code. Nothing below this package prints or exits."""
