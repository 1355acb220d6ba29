"""Login for the web app: users with scrypt-hashed passwords, from a file or the environment.

A user line is `name:scrypt$N$r$p$salt$hash` (salt and hash base64). `python -m ui.auth NAME`
asks for a password and prints the line to add. hashlib.scrypt is in the standard library and
is a memory-hard password hash, so no extra dependency is needed.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from assistant.errors import SettingsError

USERS_FILE_ENV = "ASSISTANT_USERS_FILE"
USERS_ENV = "ASSISTANT_USERS"

_N, _R, _P, _LEN = 2**15, 8, 1, 32
_MAXMEM = 128 * _R * _N * 2


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=max(_MAXMEM, 128 * r * n * 2), dklen=_LEN)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=max(_MAXMEM, 128 * int(r) * int(n) * 2),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _parse(lines: list[str], where: str) -> dict[str, str]:
    users: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, encoded = line.partition(":")
        name = name.strip()
        parts = encoded.strip().split("$")
        if not sep or not name or len(parts) != 6 or parts[0] != "scrypt":
            raise SettingsError(
                f"{where} line {number}: expected 'name:scrypt$…' (make one with `python -m ui.auth NAME`)"
            )
        users[name] = encoded.strip()
    return users


class Users:
    """Who may log in; `check` is what the web server calls with a name and password."""

    def __init__(self, hashes: Mapping[str, str]) -> None:
        self.hashes = dict(hashes)
        self._dummy = hash_password(secrets.token_hex(8))

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def __len__(self) -> int:
        return len(self.hashes)

    def check(self, username: str, password: str) -> bool:
        encoded = self.hashes.get(username)
        # Hash even for unknown names, so response time does not reveal which names exist.
        ok = verify_password(password, encoded or self._dummy)
        return ok and encoded is not None

    @classmethod
    def load(cls, path: Path | str | None = None, inline: str | None = None) -> Users:
        """Users from a file (default $ASSISTANT_USERS_FILE) and/or inline lines ($ASSISTANT_USERS)."""
        path = path or os.environ.get(USERS_FILE_ENV) or None
        inline = inline if inline is not None else os.environ.get(USERS_ENV, "")
        hashes: dict[str, str] = {}
        if path:
            file = Path(path)
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(f"users file {file}: cannot be read ({exc.strerror or exc})") from None
            hashes.update(_parse(text.splitlines(), f"users file {file}"))
            if not hashes:
                raise SettingsError(f"users file {file} lists no users; add one with `python -m ui.auth NAME >> {file}`")
        if inline.strip():
            hashes.update(_parse(inline.replace(",", "\n").splitlines(), USERS_ENV))
        return cls(hashes)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, users: Users) -> None:
    """Refuse to listen beyond this machine unless login is on."""
    if is_loopback(host) or users:
        return
    raise SettingsError(
        f"refusing to listen on {host} without login: anyone on the network could read and change the library. "
        f"Set {USERS_FILE_ENV} (or --users) to a file of 'name:hash' lines made with `python -m ui.auth NAME`, "
        "or keep the default --host 127.0.0.1"
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m ui.auth NAME`: ask for a password and print the users-file line for NAME."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-") or ":" in args[0]:
        print("usage: python -m ui.auth NAME >> users.txt   (asks for the password)", file=sys.stderr)
        return 2
    password = getpass.getpass(f"password for {args[0]}: ")
    if len(password) < 8:
        print("error: use at least 8 characters", file=sys.stderr)
        return 1
    if getpass.getpass("again: ") != password:
        print("error: the passwords differ", file=sys.stderr)
        return 1
    print(f"{args[0]}:{hash_password(password)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
