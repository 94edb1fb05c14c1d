"""Use cases, one function each, shared by the CLI and the TUI (see each module)."""
