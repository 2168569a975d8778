"""Bounded, seeded fuzzing of dossiers, packs and registry CSV (the long run is ``make fuzz``, fuzz/screen_fuzz.py).

The invariants are the fuzz target's own (:class:`screen_fuzz.Oracle`): no
exception escapes, records in = records out, the published schema's verdict
decides between a report and an error record.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "fuzz"))
import screen_fuzz  # the fuzz target lives in fuzz/, beside the tests, not in the package


def bounded(examples: int) -> settings:
    """Seeded (derandomized), a fixed number of examples, no example database, no time limits."""
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.from_regex(r"[0-9.,O-]{4}-[0-9]{2}-[0-9,]{2}", fullmatch=True),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def oracle() -> screen_fuzz.Oracle:
    return screen_fuzz.Oracle()


@st.composite
def dossier_bytes(draw: st.DrawFn) -> bytes:
    rng = random.Random(draw(st.integers(0, 2**32)))
    data: Any = json.loads(rng.choice(screen_fuzz.SAMPLES).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(0, 3))):
        data = screen_fuzz.mutate_value(rng, data)
    if isinstance(data, dict) and draw(st.booleans()):
        data = dict(data)  # a mutation may return one of the shared odd values: never change it in place
        data[draw(st.sampled_from(sorted(data) or ["kind"]))] = draw(JSON)
    raw = json.dumps(data).encode()
    return screen_fuzz.mutate_bytes(rng, raw) if draw(st.integers(0, 4)) == 0 else raw


@bounded(400)
@given(st.lists(dossier_bytes(), min_size=1, max_size=3))
def test_fuzzed_dossiers_keep_every_invariant(oracle: screen_fuzz.Oracle, raws: list[bytes]) -> None:
    assert oracle.screen([r.replace(b"\n", b" ") for r in raws]) == []


@bounded(60)
@given(st.integers(0, 2**32))
def test_fuzzed_packs_load_or_are_refused(seed: int) -> None:
    assert screen_fuzz.check_pack(screen_fuzz.pack_input(random.Random(seed))) is None


@bounded(300)
@given(
    st.one_of(
        st.integers(0, 2**32).map(lambda seed: screen_fuzz.csv_input(random.Random(seed))),
        st.text(alphabet='ab,"\n\r=1-', max_size=60).map(lambda t: "id,name\n" + t),
    )
)
def test_fuzzed_registry_csv_parses_or_is_refused(text: str) -> None:
    assert screen_fuzz.check_csv(text) is None


@bounded(40)
@given(st.integers(0, 2**32))
def test_fuzzed_whole_files_keep_every_invariant_within_the_cpu_bound(oracle: screen_fuzz.Oracle, seed: int) -> None:
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in screen_fuzz.SAMPLES]
    raw, how = screen_fuzz.file_input(random.Random(seed), samples)
    assert oracle.screen_file(raw, max_cpu=10.0)[1] == [], how


def test_a_file_over_the_cpu_bound_is_a_violation(oracle: screen_fuzz.Oracle) -> None:
    raw = (screen_fuzz.SAMPLES[0]).read_bytes()
    cpu, violations = oracle.screen_file(raw, max_cpu=0.0)
    assert cpu > 0 and violations == [f"screening the file took {cpu:.2f} s of CPU, more than 0.0 s"]
