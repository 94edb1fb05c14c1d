"""The TUI's screens, one per module: the main screen, full-screen logs, and the modals
(confirm, traffic, keys, text) that return their answer with ``dismiss()``."""
