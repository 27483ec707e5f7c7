"""Regression: every float the sidecar writes is in Ruby's `Float#to_s` form, so a retried payload is
byte-identical to the stored one (Ruby stores `1.0e+20` and `1.0e-05`; Python would write `1e+20`, `1e-05`).
"""

from __future__ import annotations

import json
import re

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from resque_exporter.resque import ruby_json as ruby_json_module
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.ruby_json import ruby_float, ruby_json

from support.fixtures import FIXTURE_DIR

# Ruby 3.x `Float#to_s` (and so `JSON.generate`) of each value.
RUBY = {
    1e20: "1.0e+20",
    1e-05: "1.0e-05",
    -1e-05: "-1.0e-05",
    1.5e300: "1.5e+300",
    2.5e-10: "2.5e-10",
    1e16: "1.0e+16",
    1e15: "1000000000000000.0",
    0.0001: "0.0001",
    600.0: "600.0",
    0.1: "0.1",
    -0.0: "-0.0",
    1796106503.648528: "1796106503.648528",
    1.2345678901234567e19: "1.2345678901234567e+19",
}


@pytest.mark.parametrize(("number", "text"), RUBY.items(), ids=list(RUBY.values()))
def test_ruby_float_form(number: float, text: str) -> None:
    assert ruby_float(number) == text
    assert json.loads(text) == number


def test_every_float_in_the_real_ruby_dumps_is_written_back_as_ruby_wrote_it() -> None:
    floats: set[str] = set()
    for path in FIXTURE_DIR.glob("*.json"):
        for entry in json.loads(path.read_text())["keys"]:
            values = entry["value"] if isinstance(entry["value"], list) else [entry["value"]]
            for value in values:
                for text in value if isinstance(value, list) else [value]:
                    if isinstance(text, str) and text.startswith(("{", "[")):
                        stored = json.loads(text)
                        assert ruby_json(stored) == text, entry["key"]
                        floats |= set(re.findall(r"(?<![\w\".])-?\d+\.\d+(?:e[+-]\d+)?(?![\w\"])", text))
    assert floats  # e.g. SlowJob's 600.0, resque-clues' enqueued_time
    for text in floats:
        assert ruby_float(float(text)) == text


FAILED = (
    '{"failed_at":"2026/11/22 23:17:21 UTC","payload":{"class":"PriceJob","args":[1.0e+20,1.0e-05,{"ratio":2.5e-10}]},'
    '"exception":"ArgumentError","error":"boom","backtrace":[],"worker":"vm:1:default","queue":"default"}'
)
PAYLOAD = '{"class":"PriceJob","args":[1.0e+20,1.0e-05,{"ratio":2.5e-10}]}'


def test_retry_pushes_exponent_floats_byte_identically(redis_client: redis.Redis) -> None:
    redis_client.rpush("resque:failed", FAILED)
    store = DataStore(redis_client)
    entry = store.read_failed().entries[0]
    assert store.act_on_failed(entry, "retry").outcome == "ok"
    assert redis_client.lrange("resque:queue:default", 0, -1) == [PAYLOAD.encode()]
    marked = redis_client.lindex("resque:failed", 0)
    assert marked is not None and marked.startswith(FAILED[:-1].encode())
    # a forced retry re-encodes the whole entry: the floats stay Ruby's
    again = store.read_failed().entries[0]
    assert store.act_on_failed(again, "retry", force=True).outcome == "ok"
    reencoded = redis_client.lindex("resque:failed", 0)
    assert reencoded is not None and b'[1.0e+20,1.0e-05,{"ratio":2.5e-10}]' in reencoded
    assert redis_client.lrange("resque:queue:default", 0, -1) == [PAYLOAD.encode()] * 2


def test_unregister_records_the_running_payload_with_ruby_floats(redis_client: redis.Redis) -> None:
    worker = "vm:1:default"
    redis_client.sadd("resque:workers", worker)
    redis_client.set(
        f"resque:worker:{worker}", '{"queue":"default","run_at":"2026-11-22T21:03:13Z","payload":' + PAYLOAD + "}"
    )
    store = DataStore(redis_client)
    result = store.unregister_worker(worker, prune_interval_seconds=300, force=True)
    assert result.failure_id is not None
    (entry,) = redis_client.lrange("resque:failed", 0, -1)
    assert b'"payload":' + PAYLOAD.encode() in entry


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.text(), st.floats(allow_nan=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_fast_path_writes_what_the_ruby_encoder_writes(value: object) -> None:
    """Without floats, Python's C encoder is used; its bytes must be the element-by-element encoder's."""
    parts: list[str] = []
    ruby_json_module._encode(value, parts)
    assert ruby_json(value) == "".join(parts)
    assert json.loads(ruby_json(value)) == value
