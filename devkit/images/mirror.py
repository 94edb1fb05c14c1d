"""Find the Debian mirror the host's apt already uses, so ``devkit base-image`` needs no
configuration and never names a mirror host of its own.

Both apt source formats are read: deb822 ``*.sources`` files (``Types``/``URIs``/``Suites``
stanzas) and one-line ``*.list`` files (``deb [options] URI suite components``). Security
archives are skipped: debootstrap needs the main archive of a suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devkit.errors import ImageBuildError

APT_DIR = Path("/etc/apt")


@dataclass(frozen=True)
class AptSource:
    """One ``deb`` entry of the host's apt configuration."""

    uri: str
    suites: tuple[str, ...]
    origin: Path

    @property
    def is_security(self) -> bool:
        return "security" in self.uri or any("security" in s for s in self.suites)


def host_mirror(suite: str, apt_dir: Path = APT_DIR) -> str:
    """The host's Debian mirror URI for ``suite`` (or any Debian suite when none matches)."""
    sources = [s for s in read_apt_sources(apt_dir) if not s.is_security]
    for source in sources:
        if any(s.split("-")[0] == suite for s in source.suites):
            return source.uri
    for source in sources:
        if source.uri.rstrip("/").endswith("/debian"):
            return source.uri
    raise ImageBuildError(
        f"no Debian mirror for suite '{suite}' was found in {apt_dir}/sources.list or "
        f"{apt_dir}/sources.list.d/: pass one with `devkit base-image --mirror URL`."
    )


def read_apt_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every enabled ``deb`` entry, in apt's own reading order."""
    files: list[Path] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        files.append(main_list)
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files.extend(sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources")))
    entries: list[AptSource] = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        parse = _parse_deb822 if path.suffix == ".sources" else _parse_one_line
        entries.extend(parse(text, path))
    return entries


def _parse_one_line(text: str, origin: Path) -> Iterator[AptSource]:
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            # Options like [arch=amd64 signed-by=...] may span several words.
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            yield AptSource(uri=words[0], suites=(words[1],), origin=origin)


def _parse_deb822(text: str, origin: Path) -> Iterator[AptSource]:
    for stanza in _stanzas(text.splitlines()):
        if "deb" not in stanza.get("types", "").split():
            continue
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(stanza.get("suites", "").split())
        for uri in stanza.get("uris", "").split():
            yield AptSource(uri=uri, suites=suites, origin=origin)


def _stanzas(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    current: dict[str, str] = {}
    key = ""
    for line in lines:
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                yield current
            current, key = {}, ""
        elif line[0] in " \t" and key:
            current[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        yield current
