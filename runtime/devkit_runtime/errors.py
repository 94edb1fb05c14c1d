"""The runtime's own error root: what a server or a router was started with is wrong.

The scoring server's settings (environment variables, flags) and the router's config file
fail the same way, with one sentence naming the setting or file and field and the fix;
both raise :class:`ConfigError`, and each ``__main__`` turns it into a message and an
exit code.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting or config file is missing or malformed; the message names it and the fix."""
