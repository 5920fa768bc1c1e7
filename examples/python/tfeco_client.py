#!/usr/bin/env python3
"""A small TFGrid Economy (tfeco) client: signed requests (format v2) and reads, from docs/api.md only.

Library use:

    from tfeco_client import Client, load_key
    client = Client("http://127.0.0.1:8080", load_key("me.key"))
    client.submit({"register_account": {}})
    client.submit({"transfer": {"asset": "TFT", "to": "<64 hex>", "amount": "12.5"}})
    client.account()          # GET /v1/accounts/{key}, signed: with `free` and `escrowed`

Command line (JSON on stdout; a refusal prints {"error": {...}} on stderr and exits 3, an unreachable node 4):

    python3 tfeco_client.py --key me.key new-key
    python3 tfeco_client.py --key me.key register
    python3 tfeco_client.py --key me.key transfer --to HEX --asset TFT --amount 12.5
    python3 tfeco_client.py --key me.key balance | account | history [--limit N] [--before SEQ]

The node is `--url` (or TFECO_NODE; default http://127.0.0.1:8080). The key file holds the 32-byte ed25519
secret seed as 64 hex characters (created with mode 0600 by `new-key`). Dependencies: PyNaCl only (see
requirements.txt); HTTP is the standard library's urllib.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from nacl.signing import SigningKey

#: Prefix of the signed bytes of a request (17 bytes, the last one zero).
REQUEST_DOMAIN = b"tfeco/v2/request\x00"
#: Prefix of the signed bytes of a signed read.
READ_DOMAIN = b"tfeco/v2/read\x00"
#: How long a request stays valid, seconds (the node accepts at most its `max_expiry_s`, default 3,600).
EXPIRY_S = 300
#: Exit codes, as the `tfeco` CLI's: a refusal by the node, an unreachable node.
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 4


class ApiError(Exception):
    """The node answered an error: HTTP `status` and its typed body `{"code", "message", "detail"?}`."""

    def __init__(self, status: int, error: dict[str, Any]):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.status = status
        self.code = error.get("code")
        self.error = error


class Unreachable(Exception):
    """The node did not answer (connection refused, timeout, ...)."""


class Client:
    """One account's client of one node."""

    def __init__(self, url: str, key: SigningKey, timeout_s: float = 30.0):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout_s = timeout_s

    @property
    def account_key(self) -> str:
        """The account: the ed25519 public key, 64 lowercase hex characters."""
        return self.key.verify_key.encode().hex()

    def _call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        if body is not None:
            request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                payload = json.loads(text)  # {"code", "message", "detail"?}
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or "code" not in payload:
                payload = {"code": f"http_{error.code}", "message": text.decode("utf-8", "replace")}
            raise ApiError(error.code, payload) from None
        except (urllib.error.URLError, OSError) as error:
            raise Unreachable(f"{self.url}: {error}") from None

    def get(self, path: str) -> Any:
        """A public read: `GET path` (path with its query), parsed JSON."""
        return self._call("GET", path)

    def signed_get(self, path: str) -> Any:
        """A signed read of one's own data: `GET path` with the four `x-tfeco-*` headers."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        bare, _, query = path.partition("?")
        message = READ_DOMAIN + b"".join(
            part.encode() + b"\x00" for part in ("GET", bare, query, timestamp, nonce)
        )
        headers = {
            "x-tfeco-account": self.account_key,
            "x-tfeco-timestamp": timestamp,
            "x-tfeco-nonce": nonce,
            "x-tfeco-signature": self.key.sign(message).signature.hex(),
        }
        return self._call("GET", path, headers=headers)

    def next_nonce(self) -> int:
        """The account's `next_nonce` (1 for a key that is not registered yet)."""
        try:
            return int(self.get(f"/v1/accounts/{self.account_key}")["next_nonce"])
        except ApiError as error:
            if error.code == "account_not_found":
                return 1
            raise

    def submit(self, command: dict[str, Any]) -> dict[str, Any]:
        """Signs `command` with the next nonce and posts it to `/v1/tx`: the `TxAccepted` answer."""
        body = json.dumps(
            {
                "signer": self.account_key,
                "nonce": self.next_nonce(),
                "expiry": int(time.time()) + EXPIRY_S,
                "command": command,
            }
        )
        signature = self.key.sign(REQUEST_DOMAIN + body.encode("utf-8")).signature.hex()
        return self._call("POST", "/v1/tx", json.dumps({"body": body, "signature": signature}).encode())

    def account(self, account: str | None = None) -> dict[str, Any]:
        """`GET /v1/accounts/{key}`: one's own is a signed read (adds `free` and `escrowed`)."""
        if account is None or account == self.account_key:
            return self.signed_get(f"/v1/accounts/{self.account_key}")
        return self.get(f"/v1/accounts/{account}")

    def history(self, account: str | None = None, limit: int = 20, before: int | None = None) -> dict[str, Any]:
        """`GET /v1/accounts/{key}/events`: a page of the account's events, newest first."""
        query = {"limit": str(limit)}
        if before is not None:
            query["before"] = str(before)
        key = account or self.account_key
        return self.get(f"/v1/accounts/{key}/events?{urllib.parse.urlencode(query)}")


def load_key(path: str) -> SigningKey:
    """The signing key of a key file (64 hex characters: the ed25519 secret seed)."""
    with open(path, encoding="ascii") as file:
        text = file.read().strip()
    seed = bytes.fromhex(text)
    if len(seed) != 32:
        raise ValueError(f"{path}: expected 64 hex characters (a 32-byte seed), found {len(text)} characters")
    return SigningKey(seed)


def new_key(path: str) -> SigningKey:
    """Creates a key file with a fresh random seed, readable by its owner only; refuses to overwrite one."""
    key = SigningKey.generate()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key.encode().hex() + "\n")
    return key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="A small tfeco client (docs/api.md).")
    parser.add_argument("--url", default=os.environ.get("TFECO_NODE", "http://127.0.0.1:8080"))
    parser.add_argument("--key", default=os.environ.get("TFECO_KEY_FILE", "tfeco.key"), help="key file")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("new-key", help="create the key file and print its account")
    commands.add_parser("register", help="register the key as an account")
    transfer = commands.add_parser("transfer", help="send TFT, TFP or USDC")
    transfer.add_argument("--to", required=True, help="receiving account, 64 hex")
    transfer.add_argument("--asset", required=True, choices=["TFT", "TFP", "USDC"])
    transfer.add_argument("--amount", required=True, help="decimal, e.g. 12.5 (at most 7 decimals)")
    for name, text in (("balance", "balances (total and free)"), ("account", "the account view")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--account", help="another account (public view)")
    history = commands.add_parser("history", help="the account's events, newest first")
    history.add_argument("--account")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--before", type=int, help="only entries before this journal seq")
    return parser


def _run(args: argparse.Namespace) -> Any:
    if args.command == "new-key":
        return {"account": new_key(args.key).verify_key.encode().hex(), "key_file": args.key}
    client = Client(args.url, load_key(args.key))
    if args.command == "register":
        return client.submit({"register_account": {}})
    if args.command == "transfer":
        command = {"transfer": {"asset": args.asset, "to": args.to, "amount": args.amount}}
        return client.submit(command)
    if args.command == "balance":
        view = client.account(args.account)
        return {"account": view["account"], "balances": view["balances"], "free": view.get("free")}
    if args.command == "account":
        return client.account(args.account)
    return client.history(args.account, args.limit, args.before)


def main(argv: list[str] | None = None) -> int:
    """The command line: prints the answer as JSON; exit 0, 1 (bad input), 3 (refused) or 4 (unreachable)."""
    args = _parser().parse_args(argv)
    try:
        answer = _run(args)
    except ApiError as error:
        print(json.dumps({"error": error.error, "status": error.status}), file=sys.stderr)
        return EXIT_REFUSED
    except Unreachable as error:
        print(f"error: the node is unreachable: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
