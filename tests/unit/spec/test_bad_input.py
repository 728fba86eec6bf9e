"""Bad input, as a careless or malicious person writes it: every problem names
the file, the line and the field and says what is wrong; nothing hangs or
crashes with a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from citycloud.errors import Problem, SpecError
from citycloud.spec import load_spec
from tests.support.specs import CITY, tenant

# CITY is 7 lines: "tenants:" is line 8, a tenant's name line 9, slug 10,
# department 11, owner 12, network 13, and its extra lines from 14.


def problems_of(path: Path, **kwargs: object) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_spec(path, **kwargs)  # type: ignore[arg-type]
    return list(caught.value.problems)


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def spec_file(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def with_tenant(extra: str = "", **kwargs: str) -> str:
    return CITY + "tenants:\n" + tenant(extra=extra, **kwargs)


def with_provider(network: str) -> str:
    return (
        CITY
        + f"  provider_networks:\n    - {{name: ext, physical_network: p, {network}}}\n"
    )


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        pytest.param(
            with_tenant("    quotas: {cores: 4, ram_mb: true}\n"),
            14,
            "tenants[0].quotas.ram_mb",
            "not true",
            id="bool-quota",
        ),
        pytest.param(
            with_tenant("    quotas: {instances: ten}\n"),
            14,
            "tenants[0].quotas.instances",
            "'ten'",
            id="string-quota",
        ),
        pytest.param(
            with_tenant("    quotas: {cores: -2}\n"),
            14,
            "tenants[0].quotas.cores",
            "greater than or equal to -1",
            id="quota-minus-two",
        ),
        pytest.param(
            with_tenant(
                "    apps: [{name: a, workloads: [{name: w, replicas: yes}]}]\n"
            ),
            14,
            "tenants[0].apps[0].workloads[0].replicas",
            "not true",
            id="yes-replicas",
        ),
        pytest.param(
            with_tenant(cidr="10.20.1.5/24"),
            13,
            "tenants[0].network.cidr",
            "host bits set",
            id="cidr-host-bits",
        ),
        pytest.param(
            with_tenant(cidr="10.0.0.0/33"),
            13,
            "tenants[0].network.cidr",
            "not a valid netmask",
            id="cidr-slash-33",
        ),
        pytest.param(
            with_tenant(cidr="fd00::/64"),
            13,
            "tenants[0].network.cidr",
            "IPv6",
            id="cidr-ipv6",
        ),
        pytest.param(
            with_tenant(cidr="167772160"),
            13,
            "tenants[0].network.cidr",
            "as text",
            id="cidr-as-integer",
        ),
        pytest.param(
            with_tenant(
                "    security: [{protocol: tcp, ports: '0', remote: 10.0.0.0/8}]\n"
            ),
            14,
            "tenants[0].security[0].ports",
            "1-65535",
            id="port-0",
        ),
        pytest.param(
            with_tenant(
                "    security: [{protocol: tcp, ports: '70000', remote: 10.0.0.0/8}]\n"
            ),
            14,
            "tenants[0].security[0].ports",
            "1-65535",
            id="port-70000",
        ),
        pytest.param(
            with_tenant(
                "    security: [{protocol: tcp, ports: '22-21', remote: 10.0.0.0/8}]\n"
            ),
            14,
            "tenants[0].security[0].ports",
            "1-65535",
            id="port-range-backwards",
        ),
        pytest.param(
            with_tenant(
                "    security: [{protocol: tcp, ports: ssh, remote: 10.0.0.0/8}]\n"
            ),
            14,
            "tenants[0].security[0].ports",
            "'ssh'",
            id="port-name",
        ),
        pytest.param(
            with_tenant(
                "    security: [{protocol: icmp, ports: '8', remote: 10.0.0.0/8}]\n"
            ),
            14,
            "tenants[0].security[0].ports",
            "takes no ports",
            id="icmp-with-ports",
        ),
        pytest.param(
            with_tenant(
                "    security: [{protocol: tcp, ports: '22', remote: 10.1.2.3/8}]\n"
            ),
            14,
            "tenants[0].security[0].remote",
            "host bits set",
            id="remote-host-bits",
        ),
        pytest.param(
            with_provider(
                "cidr: 198.51.100.0/24, floating_range: [198.51.100.10, 198.51.101.5]"
            ),
            9,
            "datacenter.provider_networks[0].floating_range",
            "inside 198.51.100.0/24",
            id="floating-range-outside-cidr",
        ),
        pytest.param(
            with_provider(
                "cidr: 198.51.100.0/24, floating_range: [198.51.100.90, 198.51.100.10]"
            ),
            9,
            "datacenter.provider_networks[0].floating_range",
            "starts after it ends",
            id="floating-range-backwards",
        ),
        pytest.param(
            with_provider(
                "cidr: 198.51.100.0/24, gateway: 198.51.100.1, "
                "floating_range: [198.51.100.1, 198.51.100.9]"
            ),
            9,
            "datacenter.provider_networks[0].floating_range",
            "holds the gateway",
            id="floating-range-holds-gateway",
        ),
        pytest.param(
            with_provider(
                "cidr: 198.51.100.0/24, floating_range: [198.51.100.0, 198.51.100.9]"
            ),
            9,
            "datacenter.provider_networks[0].floating_range",
            "network and broadcast",
            id="floating-range-holds-network-address",
        ),
        pytest.param(
            with_provider("cidr: 198.51.100.0/24, gateway: 10.0.0.1"),
            9,
            "datacenter.provider_networks[0].gateway",
            "outside 198.51.100.0/24",
            id="gateway-outside-cidr",
        ),
        pytest.param(
            with_tenant().replace("name: 租户gis", 'name: "a\\x1b[31mred"'),
            9,
            "tenants[0].name",
            "U+001B",
            id="escape-sequence-in-name",
        ),
        pytest.param(
            with_tenant().replace("name: 租户gis", 'name: "\\u202egnp.exe"'),
            9,
            "tenants[0].name",
            "U+202E",
            id="right-to-left-override-in-name",
        ),
        pytest.param(
            with_tenant().replace("department: 数据局", 'department: "数据\\a局"'),
            11,
            "tenants[0].department",
            "U+0007",
            id="bell-in-department",
        ),
        pytest.param(
            CITY.replace("name: 赤峰市", 'name: "赤峰/市"'),
            1,
            "city.name",
            "'/'",
            id="slash-in-city-name",
        ),
        pytest.param(
            CITY.replace('code: "1504"', 'code: "１５０４"'),
            1,
            "city.code",
            "pattern",
            id="full-width-digits-in-code",
        ),
        pytest.param(
            CITY.replace('code: "1504"', "code: 1504.0"),
            1,
            "city.code",
            "valid string",
            id="float-code",
        ),
        pytest.param(
            with_tenant().replace("name: 租户gis", "name: true"),
            9,
            "tenants[0].name",
            "valid string",
            id="bool-name",
        ),
        pytest.param(
            CITY
            + "organisations:\n  - {code: '150402', name: a, level: county, parent: '150402'}\n",
            9,
            "organisations[0]",
            "its parent a is county",
            id="own-parent",
        ),
        pytest.param(
            CITY
            + "organisations:\n"
            + "  - {code: '150402001001', name: 村, level: village, parent: '1504'}\n",
            9,
            "organisations[0]",
            "a village belongs under a township",
            id="village-under-city",
        ),
    ],
)
def test_bad_value_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, words: str
) -> None:
    path = spec_file(tmp_path, text)
    found = only(problems_of(path))
    assert (found.file, found.line, found.field) == (str(path), line, field), str(found)
    assert words in found.message


def test_a_code_written_as_a_number_says_to_quote_it(tmp_path: Path) -> None:
    text = with_tenant().replace('owner: "1504"', "owner: 1504")
    found = only(problems_of(spec_file(tmp_path, text)))
    assert (found.line, found.field) == (12, "tenants[0].owner"), str(found)
    assert found.message.endswith('write it in quotes: "1504"')


def test_a_port_written_as_a_number_is_read_as_text(tmp_path: Path) -> None:
    path = spec_file(
        tmp_path,
        with_tenant("    security: [{protocol: tcp, ports: 22, remote: 10.0.0.0/8}]\n"),
    )
    assert load_spec(path).tenants[0].security[0].port_range == (22, 22)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        pytest.param(
            CITY + "tenants: &a [*a]\n",
            8,
            "(top)",
            "inside of",
            id="alias-inside-its-anchor",
        ),
        pytest.param(
            CITY + "x: &a {b: *a}\n",
            8,
            "(top)",
            "inside of",
            id="mapping-alias-inside-its-anchor",
        ),
        pytest.param(
            CITY + "1: one\n",
            8,
            "(top)",
            "not text",
            id="number-key",
        ),
        pytest.param(
            CITY + "null: x\n",
            8,
            "(top)",
            "not text",
            id="null-key",
        ),
        pytest.param(
            CITY + "tenants:\n\t- name: x\n",
            9,
            "(top)",
            "a tab cannot indent",
            id="tab-indent",
        ),
        pytest.param(
            CITY + "---\ntenants: []\n",
            8,
            "(top)",
            "another document",
            id="two-documents",
        ),
        pytest.param(
            with_tenant().replace("    slug: gis\n", "    slug: gis\n    slug: gis2\n"),
            11,
            "tenants[0].slug",
            "repeated (first at line 10)",
            id="duplicate-key",
        ),
        pytest.param(
            CITY
            + "x-defaults: &q {cores: 1}\ntenants:\n"
            + tenant(extra="    quotas:\n      <<: *q\n      bogus: 1\n"),
            17,
            "tenants[0].quotas.bogus",
            "unknown field",
            id="merge-key-then-typo",
        ),
        pytest.param(
            CITY + "x: " + "[" * 1001 + "]" * 1001 + "\n",
            8,
            "(top)",
            "nesting depth",
            id="deep-nesting",
        ),
    ],
)
def test_bad_yaml_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, words: str
) -> None:
    path = spec_file(tmp_path, text)
    found = [p for p in problems_of(path) if p.line == line]
    assert found, [str(p) for p in problems_of(path)]
    assert (found[0].file, found[0].field) == (str(path), field), str(found[0])
    assert words in found[0].message


def test_deep_nesting_below_the_parser_limit_is_an_unknown_field(
    tmp_path: Path,
) -> None:
    path = spec_file(tmp_path, CITY + "x: " + "[" * 990 + "]" * 990 + "\n")
    found = only(problems_of(path))
    assert (found.line, found.field) == (8, "x") and "unknown field" in found.message


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = [
        CITY.rstrip("\n"),
        'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("tenants: *a9")
    path = spec_file(tmp_path, "\n".join(lines) + "\n")
    found = only(problems_of(path))
    assert found.file == str(path) and found.line is not None and 8 <= found.line <= 17
    assert "aliases expand to more than" in found.message


def test_anchors_shared_by_many_tenants_are_fine(tmp_path: Path) -> None:
    text = CITY + "x-q: &q {instances: 1, cores: 2}\n"
    path = spec_file(tmp_path, text)
    # x-q itself is an unknown top-level key; the alias use below must not count as a bomb
    text += "tenants:\n" + "".join(
        tenant(f"t{i}", f"10.{20 + i // 256}.{i % 256}.0/24", extra="    quotas: *q\n")
        for i in range(300)
    )
    path.write_text(
        text.replace("x-q: &q", "# shared quotas\nx-q: &q"), encoding="utf-8"
    )
    assert [p.field for p in problems_of(path)] == ["x-q"]


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        pytest.param(
            CITY.encode() + "tenants: []  # 注释\n".encode("gbk"),
            8,
            "not UTF-8",
            id="gbk",
        ),
        pytest.param(CITY.encode() + b"# \xff\xfe\n", 8, "not UTF-8", id="latin-bytes"),
        pytest.param(CITY.encode("utf-16"), 1, "not UTF-8", id="utf-16"),
    ],
)
def test_bytes_that_are_not_utf8_name_the_line(
    tmp_path: Path, data: bytes, line: int, words: str
) -> None:
    path = spec_file(tmp_path, data)
    found = only(problems_of(path))
    assert (found.file, found.line, found.field) == (str(path), line, "(top)")
    assert words in found.message and "save the file as UTF-8" in found.message


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    assert (
        load_spec(spec_file(tmp_path, b"\xef\xbb\xbf" + CITY.encode())).city.code
        == "1504"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_pipe_is_not_a_spec(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    found = only(problems_of(fifo))
    assert found.file == str(fifo) and "not a regular file" in found.message


HEADER = "code,name,parent_code,level\n"


@pytest.mark.parametrize(
    ("csv", "line", "field", "words"),
    [
        pytest.param(HEADER + "150402,红山区\n", 2, "row", "2 fields", id="short-row"),
        pytest.param(
            HEADER + "150402,红山,区,1504,county\n",
            2,
            "row",
            "quote a name",
            id="unquoted-comma",
        ),
        pytest.param(
            HEADER + '150402,"红山区,1504,county\n150403,元宝山区,1504,county\n',
            3,
            "csv",
            "unexpected end of data",
            id="unclosed-quote",
        ),
        pytest.param(
            HEADER + "150402," + "x" * 200_000 + ",1504,county\n",
            2,
            "csv",
            "field limit",
            id="huge-field",
        ),
        pytest.param(
            "code,name,parent_code,level,code\n150402,红山区,1504,county,9\n",
            1,
            "header",
            "named twice: code",
            id="column-twice",
        ),
        pytest.param(
            "code,name,level\n150402,红山区,county\n",
            1,
            "header",
            "parent_code",
            id="missing-column",
        ),
        pytest.param(
            HEADER + "\n\n\n150402,红山区,1504,district\n",
            5,
            "level",
            "unknown level 'district'",
            id="line-after-blank-lines",
        ),
        pytest.param(
            HEADER + "１５０４０２,红山区,1504,county\n",
            2,
            "code",
            "not a code",
            id="full-width-digits",
        ),
        pytest.param(
            HEADER + "150402,红山区,1504,county\n150402,又一个,1504,county\n",
            3,
            "code",
            "duplicate code",
            id="duplicate-code",
        ),
        pytest.param(
            (HEADER + "150402,红山区,1504,county\n").encode("gbk"),
            2,
            "csv",
            "not UTF-8",
            id="gbk",
        ),
    ],
)
def test_bad_divisions_csv_names_file_line_and_field(
    tmp_path: Path, csv: str | bytes, line: int, field: str, words: str
) -> None:
    spec = spec_file(tmp_path, CITY)
    divisions = tmp_path / "d.csv"
    if isinstance(csv, bytes):
        divisions.write_bytes(csv)
    else:
        divisions.write_text(csv, encoding="utf-8", newline="")
    found = only(problems_of(spec, divisions=[divisions]))
    assert (found.file, found.line, found.field) == (str(divisions), line, field), str(
        found
    )
    assert words in found.message


@pytest.mark.parametrize(
    "csv",
    [
        pytest.param(
            "code, name, parent_code, level\n150402, 红山区, 1504, county\n",
            id="spaces",
        ),
        pytest.param(
            HEADER.replace("\n", "\r\n") + "150402,红山区,1504,county\r\n", id="crlf"
        ),
        pytest.param(
            "code,name,parent_code,level,note\n150402,红山区,1504,county,x\n",
            id="extra",
        ),
        pytest.param(HEADER + '150403,"元宝山区, 东",1504,county\n', id="quoted-comma"),
    ],
)
def test_harmless_csv_variants_are_read(tmp_path: Path, csv: str) -> None:
    divisions = tmp_path / "d.csv"
    divisions.write_text(csv, encoding="utf-8", newline="")
    spec = load_spec(spec_file(tmp_path, CITY), divisions=[divisions])
    assert len(spec.orgs) == 2


def test_a_bad_state_url_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    from citycloud.cli import main

    spec = spec_file(tmp_path, CITY)
    result = CliRunner().invoke(
        main,
        [
            "--lang",
            "en",
            "plan",
            str(spec),
            "--state",
            "not a url",
            "--out",
            str(tmp_path / "o"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 5  # a state store problem (README: exit codes)
    assert "Traceback" not in result.stderr and "URL" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_pipe_given_as_divisions_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)
    found = only(problems_of(spec_file(tmp_path, CITY), divisions=[fifo]))
    assert (found.file, found.field) == (str(fifo), "csv")
    assert "not a regular file" in found.message


def test_divisions_that_are_a_folder_are_refused(tmp_path: Path) -> None:
    text = CITY + "divisions:\n  - {csv: sub}\n"
    (tmp_path / "sub").mkdir()
    spec = spec_file(tmp_path, text)
    found = only(problems_of(spec))
    assert (found.file, found.line, found.field) == (str(spec), 9, "divisions[0].csv")
    assert f"{tmp_path / 'sub'}: not a regular file" in found.message


def test_a_missing_divisions_csv_names_the_spec_line(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, CITY + "divisions:\n  - {csv: nope.csv}\n")
    found = only(problems_of(spec))
    assert (found.file, found.line, found.field) == (str(spec), 9, "divisions[0].csv")
    assert "No such file" in found.message
