"""Secrets out of configuration text: `redact()` before text goes into an evidence pack,
`find_secret()` to refuse a scenario whose configuration strings carry one.

Line by line (a diff's leading `+`/`-` aside), each rule knows a keyword that introduces a
secret and the tokens that may stand between (type digit, encoding, algorithm, key id): those
are kept, the secret becomes `<redacted>` (its quotes kept). Text after `description` or
`remark` is free text, left alone.
"""

# Syntax relied on (FRR, Cisco IOS/NX-OS/IOS-XR, Arista EOS, Junos):
#   FRR user docs: bgp `neighbor PEER password PASSWORD`; ospfd `ip ospf authentication-key
#     AUTH_KEY`, `ip ospf message-digest-key KEYID md5 KEY`, key chain `key-string`; isisd
#     `area-password|domain-password [clear|md5] PW`; ripd `ip rip authentication string STRING`;
#     ospf6d (ospf6_auth_trailer.c) `ipv6 ospf6 authentication key-id N hash-algo A key KEY`.
#   Cisco IOS command references and CIS benchmarks: `enable secret|password [level N] [type]
#     PW` and `neighbor X password PW` (both allow spaces), `username U secret 5 HASH`,
#     `password 7 X`, `key-string [7] KEY`, `crypto isakmp key KEY address A`, TACACS+/RADIUS
#     `key [0|7] KEY`, `ntp authentication-key N md5 KEY [7]`, `snmp-server community NAME RO`,
#     `snmp-server user U G v3 auth sha PW priv aes 128 PW`.
#   NX-OS: `username U password 5 HASH role R`, `snmp-server user U R auth md5 K priv K
#     localizedkey`. IOS-XR: `password encrypted X`, `secret 10 HASH`, `key-string password X`,
#     `lsp-password hmac-md5 encrypted X`, `message-digest-key 1 md5 encrypted X`.
#   Arista EOS configs: `username U privilege 15 role R secret sha512 HASH`,
#     `neighbor X password 7 X`, `ip ospf message-digest-key 1 md5 7 X`.
#   Junos docs: `authentication-key "$9$..."; ## SECRET-DATA`, root-authentication
#     `encrypted-password`, `secret`, `simple-password`, `authentication md5 1 key`,
#     `pre-shared-key ascii-text`, `snmp community NAME` (the name is the secret).

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

MARKER = "<redacted>"
# a key whose value is a credential ends in one of these words (`enable_password`, `auth-token`,
# `api_key`); `password_env` and `password_file` say where one is, and are not
SECRET_WORDS = {"password", "passwd", "secret", "token", "passphrase", "key", "apikey"}


@functools.lru_cache(maxsize=1024)  # the same few keys, thousands of times in a large file
def is_secret_key(key: str) -> bool:
    """Whether a key of an input file (or a driver option) holds a credential."""
    return re.split(r"[-_\s]+", key.lower())[-1] in SECRET_WORDS

# tokens that may stand between a keyword and its secret: type digit, encoding, algorithm
_TYPE = (r"\d{1,2}|sha512|md5|hmac-md5|hmac-sha-?\d+|clear|encrypted|password|ascii-text"
         r"|hexadecimal")
_TOKEN = r'"[^"\n]*"|\S+?(?=;?(?:\s|$))'  # quoted, or one word (a Junos `;` is not part of it)
# to the end of the line (IOS allows spaces in these), a last `;` and spaces left out; possessive,
# so a long run of spaces is passed once (a lazy `.*?` with a lookahead would be quadratic)
_REST = r"\S(?:\s*+(?:[^\s;]|;(?!\s*+$)))*+"


@dataclass(frozen=True)
class _Rule:
    """`pattern` finds a secret (groups `kw` and `value`); with `after`, only past the first
    match of `after` on the line (searched once: a context such as `tacacs-server ... key`
    written as one pattern would rescan the line from every occurrence of its start)."""

    pattern: re.Pattern[str]
    after: re.Pattern[str] | None = None

    def finditer(self, line: str) -> Iterator[re.Match[str]]:
        context = self.after.search(line) if self.after else None
        if self.after and context is None:
            return iter(())
        return self.pattern.finditer(line, context.end() if context else 0)


def _rule(keyword: str, between: str = "", value: str = _TOKEN, after: str = "") -> _Rule:
    """`keyword` (its group `kw` names it), then any of `between`, then the secret `value`."""
    skip = rf"(?:\s+(?:{between}))*" if between else ""
    return _Rule(re.compile(rf"{keyword}{skip}\s+(?P<value>{value})", re.IGNORECASE),
                 re.compile(after, re.IGNORECASE) if after else None)


_START, _END = r"(?<![\w-])", r"(?![\w-])"  # whole words, `-` included
_RULES = (  # the first rule to find a secret names its keyword
    _rule(r"\bneighbor\s+\S+\s+(?P<kw>password)", _TYPE, _REST),
    _rule(r"\b(?P<kw>enable\s+(?:secret|password))", rf"level\s+\d+|{_TYPE}", _REST),
    _rule(rf"{_START}(?P<kw>key-string|pre-shared-key|privacy-key|community-name){_END}",
          rf"local|remote|address\s+\S+(?:\s+[\d.]+)?\s+key|{_TYPE}"),
    _rule(rf"{_START}(?P<kw>authentication-key|message-digest-key){_END}",
          rf"\d+\s+(?:md5|sha\d*)|{_TYPE}"),
    _rule(rf"\b(?:hash-algo\s+\S+|md5\s+\d+|isakmp)\s+(?P<kw>key){_END}", _TYPE),
    _rule(rf"\s(?P<kw>key){_END}", _TYPE,
          after=r"\b(?:tacacs-server|radius-server|server-private)\b"),
    _rule(r"\b(?P<kw>authentication\s+string)\b"),
    _rule(r"\b(?P<kw>snmp(?:-server)?\s+community)\b", "clear|encrypted"),
    _rule(r"\s(?P<kw>auth)", r"md5|sha[\w-]*", after=r"\bsnmp-server\s+user\b"),
    _rule(r"\s(?P<kw>priv)", r"aes[\w-]*|3des|des|\d+", after=r"\bsnmp-server\s+user\b"),
    _rule(rf"{_START}(?P<kw>(?:[\w-]+-)?(?:password|secret)|password-encrypt){_END}",
          rf"level\s+\d+|{_TYPE}"),
    # a line that is `key [type] KEY` alone (IOS `tacacs server` block, Junos `md5 N { key ...}`),
    # not a key chain's `key 1` nor Junos `key 1 {`
    _rule(r"^\s*(?P<kw>key)", r"\d",
          rf"(?!\d+\s*+$|\{{)(?:{_TOKEN})(?=\s*+;?\s*+(?:##.*)?$)"),
    # Junos curly `community NAME {` under snmp (policy-options shows `community NAME members`)
    _rule(r"^\s*(?P<kw>community)", value=rf"(?:{_TOKEN})(?=\s*[{{;])"),
    # anything else Junos itself marks as secret (a word start: not every letter of a long word)
    _rule(rf"{_START}(?P<kw>[\w-]+)", value=r'"[^"\n]*"(?=\s*;\s*##\s*SECRET-DATA)'),
)
_FREE_TEXT = re.compile(r"\b(?:description|remark)\b", re.IGNORECASE)


def _secrets(line: str) -> list[tuple[int, int, str]]:
    """(start, end, keyword) of each secret on one line (a diff's `+`/`-` aside), no overlaps."""
    skip = 1 if line.startswith(("+", "-")) else 0
    head = line[skip:]
    if free := _FREE_TEXT.search(head):
        head = head[:free.start()]
    found: dict[tuple[int, int], str] = {}
    for rule in _RULES:
        for match in rule.finditer(head):
            start, end = match.span("value")
            found.setdefault((start + skip, end + skip), " ".join(match["kw"].lower().split()))
    spans: list[tuple[int, int, str]] = []
    for (start, end), keyword in sorted(found.items(), key=lambda f: (f[0][0], -f[0][1])):
        if not spans or start >= spans[-1][1]:
            spans.append((start, end, keyword))
    return spans


def redact(text: str) -> tuple[str, int]:
    """`text` with every secret replaced by `<redacted>`, and how many were replaced."""
    out: list[str] = []
    count = 0
    for line in text.splitlines(keepends=True):
        done = 0
        for start, end, _ in _secrets(line):
            quote = line[start] if line[start] in "\"'" else ""
            out += [line[done:start], quote, MARKER, quote]
            done, count = end, count + 1
        out.append(line[done:])
    return "".join(out), count


def find_secret(text: str) -> str | None:
    """The keyword introducing the first secret in `text` (never the secret), or None."""
    for line in text.splitlines():
        if spans := _secrets(line):
            return spans[0][2]
    return None
