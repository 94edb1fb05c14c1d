"""One module per ``devkit`` subcommand."""
