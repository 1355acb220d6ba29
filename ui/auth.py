"""Login for the web app: users with scrypt-hashed passwords and a role, from a file or the environment.

A user line is `name:scrypt$N$r$p$salt$hash:role` (salt and hash base64; role `reader` or `editor`,
a line without one is a reader). `assistant user add NAME` writes one; `python -m ui.auth NAME`
prints one. hashlib.scrypt is in the standard library and is a memory-hard password hash, so no
extra dependency is needed. Failed logins are slowed per user name and per client address.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import getpass
import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.errors import SettingsError
from assistant.files import atomic_write

USERS_FILE_ENV = "ASSISTANT_USERS_FILE"
USERS_ENV = "ASSISTANT_USERS"

ROLES = ("reader", "editor")
Role = Literal["reader", "editor"]

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


def _parse(lines: list[str], where: str) -> dict[str, tuple[str, Role]]:
    users: dict[str, tuple[str, Role]] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, rest = line.partition(":")
        name = name.strip()
        encoded, _, role = rest.strip().partition(":")
        parts = encoded.strip().split("$")
        role = role.strip() or "reader"
        if not sep or not name or len(parts) != 6 or parts[0] != "scrypt":
            raise SettingsError(
                f"{where} line {number}: expected 'name:scrypt$…' (make one with `assistant user add NAME`)"
            )
        if role not in ROLES:
            raise SettingsError(f"{where} line {number}: role '{role}' is not reader or editor")
        users[name] = (encoded.strip(), "editor" if role == "editor" else "reader")
    return users


class Users:
    """Who may log in and with what role; `check` is what the web server calls with a name and password."""

    def __init__(self, hashes: Mapping[str, str], roles: Mapping[str, Role] | None = None) -> None:
        self.hashes = dict(hashes)
        self.roles: dict[str, Role] = {name: (roles or {}).get(name, "reader") for name in self.hashes}
        self._dummy = hash_password(secrets.token_hex(8))
        self.throttle = Throttle()

    def role(self, username: str | None) -> Role | None:
        """The role of a logged-in user (None for a name that is not listed)."""
        return self.roles.get(username or "")

    def may_edit(self, username: str | None) -> bool:
        return self.role(username) == "editor"

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def __len__(self) -> int:
        return len(self.hashes)

    def check(self, username: str, password: str) -> bool:
        encoded = self.hashes.get(username)
        # Hash even for unknown names, so response time does not reveal which names exist.
        ok = verify_password(password, encoded or self._dummy)
        return ok and encoded is not None

    async def login(self, username: str, password: str) -> bool:
        """The web server's check: slowed after failures for this name and this client address."""
        keys = [f"user:{username.strip().lower()}", f"address:{CLIENT_ADDRESS.get()}"]
        wait = self.throttle.begin(keys)
        if wait is None:
            return False  # held back too long: refused without looking at the password
        if wait:
            await asyncio.sleep(wait)
        ok = await asyncio.to_thread(self.check, username, password)
        self.throttle.end(keys, ok)
        return ok

    @classmethod
    def load(cls, path: Path | str | None = None, inline: str | None = None) -> Users:
        """Users from a file (default $ASSISTANT_USERS_FILE) and/or inline lines ($ASSISTANT_USERS)."""
        path = path or os.environ.get(USERS_FILE_ENV) or None
        inline = inline if inline is not None else os.environ.get(USERS_ENV, "")
        found: dict[str, tuple[str, Role]] = {}
        if path:
            file = Path(path)
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(f"users file {file}: cannot be read ({exc.strerror or exc})") from None
            found.update(_parse(text.splitlines(), f"users file {file}"))
            if not found:
                raise SettingsError(f"users file {file} lists no users; add one with `assistant user add NAME --users-file {file}`")
        if inline.strip():
            found.update(_parse(inline.replace(",", "\n").splitlines(), USERS_ENV))
        return cls({n: h for n, (h, _) in found.items()}, {n: r for n, (_, r) in found.items()})


# ---------------------------------------------------------------- slowing failed logins

# The client address of the request being served, set by ClientAddress around each request.
CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="")


class ClientAddress:
    """ASGI middleware: makes the client's address known to the login check (Gradio passes it only name and password)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") or ("", 0)
        token = CLIENT_ADDRESS.set(str(client[0]))
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)


class Throttle:
    """Exponential delays after failed logins, kept per key (a user name, a client address).

    The first `free` failures cost nothing; each later one doubles the wait before the next attempt,
    from `base` seconds up to `cap`. Attempts are booked in turn, so parallel guesses queue rather than
    share one wait; an attempt that would wait longer than `hold` is refused without checking.
    """

    def __init__(self, *, free: int = 3, base: float = 1.0, cap: float = 300.0, hold: float = 10.0, forget: float = 900.0) -> None:
        self.free, self.base, self.cap, self.hold, self.forget = free, base, cap, hold, forget
        self.failures: dict[str, int] = {}
        self.until: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def _delay(self, failures: int) -> float:
        return 0.0 if failures <= self.free else min(self.base * 2 ** (failures - self.free - 1), self.cap)

    def begin(self, keys: list[str]) -> float | None:
        """Seconds this attempt must wait, or None when it is refused outright; it counts as failed until `end`."""
        now = time.monotonic()
        with self.lock:
            for key in keys:
                if now - self.seen.get(key, now) > self.forget:
                    self.failures.pop(key, None)
                    self.until.pop(key, None)
            wait = max(0.0, *(self.until.get(key, 0.0) - now for key in keys))
            if wait > self.hold:
                return None
            for key in keys:
                self.failures[key] = self.failures.get(key, 0) + 1
                self.until[key] = now + wait + self._delay(self.failures[key])
                self.seen[key] = now
            return wait

    def end(self, keys: list[str], ok: bool) -> None:
        """A success clears the user's record and takes back its count at the address."""
        if not ok:
            return
        with self.lock:
            for key in keys:
                if key.startswith("user:"):
                    self.failures.pop(key, None)
                    self.until.pop(key, None)
                else:
                    self.failures[key] = max(0, self.failures.get(key, 1) - 1)


# ---------------------------------------------------------------- the users file


def check_name(name: str) -> str:
    """A user name that fits a users-file line."""
    name = name.strip()
    if not name or ":" in name or any(ch.isspace() for ch in name) or name.startswith("#"):
        raise SettingsError(f"user name '{name}' cannot be used: no spaces or ':', and not starting with '#'")
    return name


def _rewrite(path: Path, lines: list[str]) -> None:
    """Replace the users file in one step, readable only by its owner (it holds password hashes)."""
    atomic_write(path, "".join(line + "\n" for line in lines), mode=0o600)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except OSError as exc:
        raise SettingsError(f"users file {path}: cannot be read ({exc.strerror or exc})") from None


def _line_name(line: str) -> str:
    return line.partition(":")[0].strip() if line.strip() and not line.lstrip().startswith("#") else ""


def add_user(path: Path, name: str, password: str, role: Role = "reader") -> bool:
    """Add NAME (or replace its password and role); True when it was new."""
    name = check_name(name)
    if len(password) < 8:
        raise SettingsError("the password is too short: use at least 8 characters")
    if role not in ROLES:
        raise SettingsError(f"role '{role}' is not reader or editor")
    lines = _lines(path)
    entry = f"{name}:{hash_password(password)}:{role}"
    new = all(_line_name(line) != name for line in lines)
    lines = [entry if _line_name(line) == name else line for line in lines] + ([entry] if new else [])
    _rewrite(path, lines)
    return new


def remove_user(path: Path, name: str) -> None:
    """Take NAME out of the users file; an error when it is not there."""
    lines = _lines(path)
    kept = [line for line in lines if _line_name(line) != name.strip()]
    if len(kept) == len(lines):
        raise SettingsError(f"users file {path} has no user '{name}'")
    _rewrite(path, kept)


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
        f"Set {USERS_FILE_ENV} (or --users) to a users file made with `assistant user add NAME --users-file FILE`, "
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
    print(f"{args[0]}:{hash_password(password)}:reader")
    return 0


if __name__ == "__main__":
    sys.exit(main())
