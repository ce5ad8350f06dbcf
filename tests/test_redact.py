"""Secrets out of configuration text: redacted with their keyword kept, refused in scenarios."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.redact import find_secret, redact
from harness.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent

# (line, redacted, keyword find_secret names); secret values are made up, syntax is not
SECRETS = [
    # FRR user docs: bgp.rst `neighbor PEER password PASSWORD`; ospfd.rst `ip ospf
    # authentication-key AUTH_KEY`, `ip ospf message-digest-key KEYID md5 KEY`, key chain
    # example `key-string ospf`; isisd.rst `area-password [clear | md5] <password>`; ripd.rst
    # `ip rip authentication string STRING`; ospf6d (ospf6_auth_trailer.c) `ipv6 ospf6
    # authentication key-id N hash-algo A key K`
    (" neighbor 198.18.0.2 password S3cret", " neighbor 198.18.0.2 password <redacted>",
     "password"),
    (" ip ospf authentication-key S3cret", " ip ospf authentication-key <redacted>",
     "authentication-key"),
    (" ip ospf message-digest-key 1 md5 S3cret", " ip ospf message-digest-key 1 md5 <redacted>",
     "message-digest-key"),
    ("  key-string ospf", "  key-string <redacted>", "key-string"),
    (" area-password md5 S3cret", " area-password md5 <redacted>", "area-password"),
    (" domain-password clear S3cret", " domain-password clear <redacted>", "domain-password"),
    (" ip rip authentication string S3cret", " ip rip authentication string <redacted>",
     "authentication string"),
    (" ipv6 ospf6 authentication key-id 1 hash-algo hmac-sha-256 key S3cret",
     " ipv6 ospf6 authentication key-id 1 hash-algo hmac-sha-256 key <redacted>", "key"),
    ("enable password zebra", "enable password <redacted>", "enable password"),
    # Cisco IOS: command references (enable secret [level N] {password | type encrypted},
    # neighbor ... password: spaces allowed), CIS IOS benchmark (`ip ospf message-digest-key
    # {id} md5 {key}`), IOS key chain `key-string`, IKE `crypto isakmp key`, TACACS+ `key [0|7]`
    ("username admin secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
     "username admin secret 5 <redacted>", "secret"),
    ("enable secret level 15 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
     "enable secret level 15 5 <redacted>", "enable secret"),
    (" password 7 060506324F41584B56", " password 7 <redacted>", "password"),
    (" neighbor 192.168.3.2 password let me in", " neighbor 192.168.3.2 password <redacted>",
     "password"),
    (" neighbor 192.168.3.2 password 7 060506324F41", " neighbor 192.168.3.2 password 7 <redacted>",
     "password"),
    ("snmp-server community S3cr3t RO", "snmp-server community <redacted> RO",
     "snmp-server community"),
    ("snmp-server user ops grp v3 auth sha AuthPw1 priv aes 128 PrivPw1",
     "snmp-server user ops grp v3 auth sha <redacted> priv aes 128 <redacted>", "auth"),
    ("  key-string 7 060506324F41", "  key-string 7 <redacted>", "key-string"),
    ("crypto isakmp key S3cret address 192.0.2.1", "crypto isakmp key <redacted> address 192.0.2.1",
     "key"),
    ("tacacs-server host 192.0.2.9 key 7 060506324F41",
     "tacacs-server host 192.0.2.9 key 7 <redacted>", "key"),
    (" key 7 060506324F41", " key 7 <redacted>", "key"),  # in a `tacacs server NAME` block
    ("ntp authentication-key 1 md5 060506324F41 7", "ntp authentication-key 1 md5 <redacted> 7",
     "authentication-key"),
    (" ip ospf authentication-key 7 045802150C2E", " ip ospf authentication-key 7 <redacted>",
     "authentication-key"),
    # NX-OS: `username admin password 5 <hash> role network-admin`, SNMPv3 user localized keys
    ("username admin password 5 $5$KAJ2xEDz$abc  role network-admin",
     "username admin password 5 <redacted>  role network-admin", "password"),
    ("snmp-server user ops network-admin auth md5 0x1a2b priv 0x3c4d localizedkey",
     "snmp-server user ops network-admin auth md5 <redacted> priv <redacted> localizedkey",
     "auth"),
    # IOS-XR: neighbor/LDP/MSDP `password encrypted <type 7>`, `username U secret 10 <hash>`,
    # key chain `key-string password`, IS-IS `lsp-password hmac-md5 encrypted`, OSPF `message-
    # digest-key 1 md5 encrypted`
    ("  password encrypted 02050D480809", "  password encrypted <redacted>", "password"),
    (" secret 10 $6$x5Nx$abc", " secret 10 <redacted>", "secret"),
    ("  key-string password 060506324F41", "  key-string password <redacted>", "key-string"),
    (" lsp-password hmac-md5 encrypted 060506324F41", " lsp-password hmac-md5 encrypted <redacted>",
     "lsp-password"),
    ("  message-digest-key 1 md5 encrypted 0822455D0A16",
     "  message-digest-key 1 md5 encrypted <redacted>", "message-digest-key"),
    # Arista EOS configs (AVD-generated): `username admin privilege 15 role network-admin secret
    # sha512 <hash>`; `neighbor X password 7 <x>`, `ip ospf message-digest-key 1 md5 7 <x>`
    ("username admin privilege 15 role network-admin secret sha512 $6$82gq$MoZO0S8Q",
     "username admin privilege 15 role network-admin secret sha512 <redacted>", "secret"),
    ("   neighbor SPINES password 7 q+VNViP5i4rVjW1cxFv2wA==",
     "   neighbor SPINES password 7 <redacted>", "password"),
    ("   ip ospf message-digest-key 1 md5 7 hV6NgLv6YbBbF1I4",
     "   ip ospf message-digest-key 1 md5 7 <redacted>", "message-digest-key"),
    # Junos docs: authentication-key (protocols bgp), root-authentication encrypted-password,
    # `set ... authentication md5 1 key`, `pre-shared-key ascii-text`, snmp community
    # (community name is the secret); curly form as `show configuration` prints it
    ('set protocols bgp group RR authentication-key "$9$eWFML7ZGi.mTwY"',
     'set protocols bgp group RR authentication-key "<redacted>"', "authentication-key"),
    ('set system root-authentication encrypted-password "$6$salt$hash"',
     'set system root-authentication encrypted-password "<redacted>"', "encrypted-password"),
    ('set protocols ospf area 0.0.0.0 interface so-0/2/0 authentication md5 5 key "$9$PssWd8"',
     'set protocols ospf area 0.0.0.0 interface so-0/2/0 authentication md5 5 key "<redacted>"',
     "key"),
    ('set security ike policy P pre-shared-key ascii-text "$9$abc"',
     'set security ike policy P pre-shared-key ascii-text "<redacted>"', "pre-shared-key"),
    ('set system radius-server 192.0.2.5 secret "$9$abc"',
     'set system radius-server 192.0.2.5 secret "<redacted>"', "secret"),
    ("set snmp community S3cr3t authorization read-only",
     "set snmp community <redacted> authorization read-only", "snmp community"),
    ('        authentication-key "$9$ZiGkPF39pOR/C"; ## SECRET-DATA',
     '        authentication-key "<redacted>"; ## SECRET-DATA', "authentication-key"),
    ('            key "$9$abcdef"; ## SECRET-DATA', '            key "<redacted>"; ## SECRET-DATA',
     "key"),
    ("    community S3cr3t {", "    community <redacted> {", "community"),
    ('    simple-password "$9$abc"; ## SECRET-DATA',
     '    simple-password "<redacted>"; ## SECRET-DATA', "simple-password"),
]


@pytest.mark.parametrize(("line", "redacted", "keyword"), SECRETS,
                         ids=[s[0].strip()[:50] for s in SECRETS])
def test_a_secret_is_replaced_and_its_keyword_kept(line: str, redacted: str,
                                                   keyword: str) -> None:
    assert redact(line) == (redacted, redacted.count("<redacted>"))
    assert find_secret(line) == keyword


NOT_SECRETS = [
    "service password-encryption",
    "no password",
    " no neighbor 198.18.0.2 password",
    " description password reset server",
    'set interfaces ge-0/0/0 description "secret 5 lab"',
    "aaa authentication login default local",
    "username admin privilege 15 role network-admin nopassword",
    "security passwords min-length 8",
    " ip ospf authentication message-digest",
    " ip ospf authentication key-chain temp",
    " area 0.0.0.0 authentication message-digest",
    "key chain temp",
    " key 13",
    "    key 1 {",
    "crypto key generate rsa modulus 2048",
    "snmp-server group grp v3 priv read v1default",
    "    community BACKUP members 65000:100;",
    "set policy-options community BACKUP members 65000:100",
    "router ospf\n max-metric router-lsa administrative\nexit",
]


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_a_mere_mention_is_left_alone(line: str) -> None:
    assert redact(line) == (line, 0)
    assert find_secret(line) is None


def test_a_whole_config_keeps_everything_but_its_secrets() -> None:
    config = (ROOT / "topologies/hospital-core/core1.conf").read_text()
    assert redact(config) == (config, 0)  # the lab's own configs carry no secret
    extra = ("router bgp 65000\n neighbor 198.18.0.2 password S3cret-bgp\nexit\n"
             "interface eth1\n description secret 5 is the enable hash\n"
             " ip ospf message-digest-key 1 md5 S3cret-ospf\nexit\n")
    text, count = redact(config + extra)
    assert count == 2 and "S3cret" not in text
    assert text.startswith(config) and " description secret 5 is the enable hash\n" in text


def test_a_config_diff_is_redacted_on_both_sides() -> None:
    """What `config/` holds: NAPALM's compare_config and unified diffs, `+`/`-` first."""
    diff = ("--- running\n+++ rolled back\n@@ -3,2 +3,0 @@\n-password zebra\n"
            "- neighbor 198.18.0.2 password S3cret\n"
            "[edit protocols bgp group G]\n+    authentication-key \"$9$abc\"; ## SECRET-DATA\n"
            "+ key 7 060506324F41\n")
    text, count = redact(diff)
    assert count == 4 and "zebra" not in text and "S3cret" not in text and "$9$abc" not in text
    assert "-password <redacted>\n- neighbor 198.18.0.2 password <redacted>\n" in text
    assert "+ key 7 <redacted>\n" in text and text.startswith("--- running\n+++ rolled back\n")


def _drain_scenario(tmp_path: Path, field: str, config: str) -> Path:
    """scenarios/core1-drain.yml with `field` of its planned drain set to `config`."""
    text = (ROOT / "scenarios/core1-drain.yml").read_text()
    text = text.replace("../topologies", str(ROOT / "topologies")).replace(
        "flows/hospital", str(ROOT / "scenarios/flows/hospital"))
    fault = "  - {kind: planned-drain, node: core1, revert_in: 600}\n"
    assert fault in text
    text = text.replace(fault, "  - kind: planned-drain\n    node: core1\n    revert_in: 600\n"
                               f"    {field}: {config}\n")
    path = tmp_path / "drain.yml"
    path.write_text(text)
    return path


# FRR ospfd docs: MD5 authentication on an interface, its key set by `ip ospf message-digest-key`
OSPF_MD5 = (r'"interface eth1\n ip ospf authentication message-digest\n'
            r' ip ospf message-digest-key 1 md5 S3cret\nexit\n"')


@pytest.mark.parametrize("field", ["drain", "undrain"])
def test_a_scenario_with_a_secret_in_its_config_is_refused(tmp_path: Path, field: str) -> None:
    path = _drain_scenario(tmp_path, field, OSPF_MD5)
    line = path.read_text().splitlines().index(f"    {field}: {OSPF_MD5}") + 1
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line,
                                                                 f"faults[0].{field}")
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: faults[0].{field}: ")
    assert "message-digest-key" in message and "\n" not in message and "S3cret" not in message


def test_config_without_secrets_and_prose_mentioning_one_load(tmp_path: Path) -> None:
    drain = r'"router ospf\n max-metric router-lsa administrative\nexit\n"'
    path = _drain_scenario(tmp_path, "drain", drain)
    text = path.read_text()
    assert "for a software upgrade" in text  # the description is prose, not configuration
    path.write_text(text.replace("for a software upgrade", "before the enable secret rotation"))
    assert load_scenario(path).faults[0].config() == \
        "router ospf\n max-metric router-lsa administrative\nexit\n"


# lines shaped to make a backtracking pattern quadratic: a long word after or without a keyword,
# long runs of spaces before the end, a keyword's context repeated (each took seconds at 16 KB)
LONG = 1 << 16
HARD = ["a" * LONG, "1" * LONG, "a-" * (LONG // 2), "x" + "-secret" * (LONG // 7),
        "key-string " + "a" * LONG, 'password "' + "a" * LONG,
        "neighbor x password a" + " " * LONG + "b", "key x" + " " * LONG + "y",
        "tacacs-server " * (LONG // 14), "snmp-server user " * (LONG // 17),
        "password a " * (LONG // 11)]


@pytest.mark.parametrize("line", HARD, ids=[f"{h[:12]!r}" for h in HARD])
def test_the_secret_scan_is_linear(line: str) -> None:
    start = time.process_time()
    find_secret(line)
    redact(line)
    assert time.process_time() - start < 0.2  # milliseconds when linear
