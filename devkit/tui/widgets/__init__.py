"""The TUI's widgets: each owns one panel, takes data as attributes and reports up with
messages nested in its class (STYLE.md: attributes down, messages up)."""
