"""Loading and validating run.json (docs/results.md, schema_version 2), on real files."""

import json

import pytest

from harness.errors import HilError
from harness.results.schema import SCHEMA_PATH, load_run, validate_run

from results_factory import deep_merge, footprint, make_run, write_run


def test_the_schema_is_a_valid_json_schema():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_a_run_directory_and_its_run_json_load_the_same(tmp_path):
    run = make_run()
    folder = write_run(tmp_path, run)
    assert load_run(folder) == run
    assert load_run(folder / "run.json") == run
    assert load_run(str(folder)) == run


@pytest.mark.parametrize("overrides", [
    {},
    {"footprint": footprint(runtime_ram=None)},  # a target that cannot paint its stack
    {"environment": {"git_sha": None, "compiler": None, "build_id": None}},
    {"parity": {"max_abs_diff_lsb": None, "l2r_max": None}, "throughput": {"patches_per_second": None}},
    {"latency": {"unit": "cycles", "ms_at_clock": 1250.0}},
    {"latency": {"unit": "ns", "median": None, "min": None, "max": None, "runs": 0, "per_layer": []}},
    {"future_key": {"added": "within schema_version 2"}},
])
def test_valid_runs_pass(overrides):
    validate_run(make_run(**overrides))


def test_every_documented_key_is_required(tmp_path):
    """Unknown is null, never a missing key: deleting any key of the factory's run is refused."""
    def paths(node, prefix=()):
        for key, value in node.items():
            yield (*prefix, key)
            if isinstance(value, dict):
                yield from paths(value, (*prefix, key))

    base = make_run()
    for path in paths(base):
        run = make_run()
        node = run
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        with pytest.raises(HilError, match=f"missing key '{'.'.join(path)}'"):
            validate_run(run, "x.json")


def test_a_missing_key_names_the_key_and_the_file(tmp_path):
    run = make_run()
    del run["footprint"]["total_flash"]
    folder = write_run(tmp_path, run)
    with pytest.raises(HilError) as info:
        load_run(folder)
    message = str(info.value)
    assert str(folder / "run.json") in message and "missing key 'footprint.total_flash'" in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(HilError, match="no such file"):
        load_run(tmp_path / "nowhere.json")
    with pytest.raises(HilError, match=f"{tmp_path}: no run.json in this folder"):
        load_run(tmp_path)


@pytest.mark.parametrize("text, message", [
    ("", "not valid JSON"),
    ('{"schema_version": 1,', "not valid JSON \\(line 1"),
    ('{"schema_version": 1, "x": NaN}', "NaN is not a JSON number"),
    ("[1, 2]", "expected a JSON object"),
])
def test_invalid_json_is_refused_with_the_file_name(tmp_path, text, message):
    path = tmp_path / "run.json"
    path.write_text(text)
    with pytest.raises(HilError, match=message) as info:
        load_run(path)
    assert str(path) in str(info.value)


def test_binary_garbage_is_not_json(tmp_path):
    path = tmp_path / "run.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(HilError, match="not valid JSON"):
        load_run(path)


@pytest.mark.parametrize("version", [3, 0, "2", None])
def test_another_schema_version_is_refused(tmp_path, version):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(make_run(schema_version=version)))
    with pytest.raises(HilError, match="schema_version") as info:
        load_run(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("overrides, message", [
    ({"latency": {"median": "213861250"}}, "latency.median: '213861250' is not of type"),
    ({"footprint": {"total_ram": 1.5e5 + 0.5}}, "footprint.total_ram"),
    ({"parity": {"patches": True}}, "parity.patches"),
    ({"latency": {"unit": "seconds"}}, "latency.unit"),
    ({"environment": {"model_sha256": "c84e..."}}, "environment.model_sha256"),
    ({"environment": {"date": "25/11/2026"}, "run_id": "20261125T061502Z_qemu-m33_yamnet256"}, "environment.date"),
    ({"footprint": {"activation_ram": -1}}, "footprint.activation_ram"),
    ({"latency": {"per_layer": [{"name": "op00", "operator": "CONV_2D"}]}},
     "missing key 'latency.per_layer\\[0\\].count'"),
])
def test_wrong_types_are_refused_with_the_key(overrides, message):
    with pytest.raises(HilError, match=message):
        validate_run(make_run(**overrides), "x.json")


@pytest.mark.parametrize("overrides, message", [
    ({"parity": {"exact_patches": 65}}, "exact_patches \\(65\\) exceeds parity.patches \\(64\\)"),
    ({"footprint": {"total_flash": 1}},
     "footprint.total_flash \\(1\\) is not weights_flash \\+ code_flash \\(200000\\)"),
    ({"footprint": {"total_ram": 1}}, "footprint.total_ram"),
    ({"footprint": {"elf_flash": 1}}, "footprint.tree.flash sums to"),
    ({"footprint": {"tree": {"ram": {"libc": 1}}}}, "footprint.tree.ram sums to"),
    ({"latency": {"ms_at_clock": 1.0}}, "ms_at_clock must be null for unit 'instructions'"),
    ({"run_id": "20261125T061502Z_host_yamnet256"}, "does not end with '_qemu-m33_yamnet256'"),
])
def test_figures_that_contradict_each_other_are_refused(overrides, message):
    with pytest.raises(HilError, match=message):
        validate_run(make_run(**overrides), "x.json")


def test_non_finite_numbers_built_in_python_are_refused():
    with pytest.raises(HilError, match="throughput.patches_per_second is nan"):
        validate_run(make_run(throughput={"patches_per_second": float("nan")}))


def test_the_factory_deep_merges_and_derives_the_run_id():
    run = make_run(environment={"target": "host", "date": "2026-12-01T00:00:00Z"}, latency={"median": 1})
    assert run["run_id"] == "20261201T000000Z_host_yamnet256"
    assert run["environment"]["model_name"] == "yamnet256" and run["latency"]["min"] == 199_000_000
    assert deep_merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}}) == {"a": {"b": 1, "c": [2]}}


def test_a_run_of_schema_version_1_reads_with_the_device_unknown(tmp_path):
    """Runs and baselines written before the device block was recorded stay readable."""
    old = make_run(schema_version=1)
    del old["device"]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(old))
    run = load_run(path)
    assert run["schema_version"] == 2
    assert run["device"] == {"counter_unit": None, "counter_hz": None, "reset_reason": None}
    assert {k: v for k, v in run.items() if k not in ("device", "schema_version")} == {
        k: v for k, v in old.items() if k != "schema_version"}
