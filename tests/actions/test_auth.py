"""Tokens file loading and the constant-time bearer check."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest

from resque_exporter.actions import auth
from resque_exporter.actions.auth import TokenFileError, TokenStore, bearer_token, load_tokens

ALICE = "alice-token-0123456789abcdef0123"
GRAFANA = "grafana-token-0123456789abcdef01"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tokens.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_inline_tokens_and_token_files_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "alice.token").write_text(ALICE + "\n", encoding="utf-8")
    path = write(
        tmp_path,
        f"""
tokens:
  - name: alice
    role: operator
    token_file: secrets/alice.token
  - name: grafana
    role: read-only
    token: "{GRAFANA}"
""",
    )
    store = load_tokens(path)
    assert len(store) == 2
    alice = store.authenticate(ALICE)
    grafana = store.authenticate(GRAFANA)
    assert alice is not None and alice.name == "alice" and alice.may_act
    assert grafana is not None and grafana.role == "read-only" and not grafana.may_act


@pytest.mark.parametrize("presented", [None, "", "wrong", ALICE[:-1], ALICE + "x", ALICE.upper(), " " + ALICE])
def test_anything_but_an_exact_token_is_refused(presented: str | None) -> None:
    store = TokenStore([("alice", "operator", ALICE)])
    assert store.authenticate(presented) is None


def test_every_token_is_compared_even_after_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", counting)
    store = TokenStore([("alice", "operator", ALICE), ("b", "read-only", "b" * 32), ("c", "read-only", "c" * 32)])
    principal = store.authenticate(ALICE)
    assert principal is not None and principal.name == "alice"
    assert len(calls) == 3
    assert all(len(a) == len(b) == 32 for a, b in calls)  # digests: the length of a guess leaks nothing
    calls.clear()
    assert store.authenticate("nope") is None and len(calls) == 3


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {ALICE}", ALICE),
        (f"bearer   {ALICE} ", ALICE),
        ("Basic YWxpY2U6eA==", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_header_parsing(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
tokens:
  - name: short
    role: operator
    token: "tooshort"
  - name: dup
    role: operator
    token: "{ALICE}"
  - name: dup
    role: read-only
    token: "{ALICE}"
  - name: missing
    role: operator
    token_file: nowhere.token
  - name: spaces
    role: operator
    token: "has spaces in it but is long enough"
""",
    )
    with pytest.raises(TokenFileError) as caught:
        load_tokens(path)
    problems = "\n".join(caught.value.problems)
    assert "tokens.0 (short): token is shorter than 24 characters" in problems
    assert "name 'dup' is used twice" in problems
    assert "the same token is given twice" in problems
    assert "cannot read token_file" in problems and "nowhere.token" in problems
    assert "printable ASCII without spaces" in problems
    assert ALICE not in problems  # a token is never printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tokens: []", "tokens: List should have at least 1 item"),
        ("nope: 1", "Field required"),
        ("tokens: [{name: a, role: admin, token: x}]", "role"),
        (f"tokens: [{{name: a, role: operator, token: {ALICE}, token_file: f}}]", "exactly one of"),
        ("tokens: [{name: a, role: operator}]", "exactly one of"),
        (f"tokens: [{{name: a, role: operator, token: {ALICE}, extra: 1}}]", "Extra inputs are not permitted"),
        ("tokens: [", "not valid YAML"),
        ("- just a list", "valid dictionary"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TokenFileError) as caught:
        load_tokens(write(tmp_path, text))
    assert message in str(caught.value)
    assert str(tmp_path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="cannot read"):
        load_tokens(tmp_path / "absent.yml")
