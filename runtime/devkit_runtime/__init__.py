"""devkit's in-container inference server (CONTRACT.md §1-2). Imports nothing from devkit."""

__version__ = "0.1.0"
