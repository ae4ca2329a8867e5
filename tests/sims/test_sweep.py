import json
import os

import pytest

from assoc.errors import ConfigError
from sims.experiments import load_experiment
from sims.sweep import (
    THREAD_ENV,
    apply_point,
    parse_grid,
    parse_seeds,
    read_index,
    run_sweep,
    start_local_cluster,
    summarize_sweep,
    task_name,
    write_sweep_report,
)

# One paradigm and small codes keep each task to a few seconds.
TINY = """\
kind = "conditioning"
name = "tiny-sweep"
dataset = "demo"
limit = 150
paradigms = ["blocking"]

[cues]
A = 3
B = 7
C = 5

[unimodal]
epochs = 1
batch_size = 32
lr = 2e-3
k = 16
width = 8
"""


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    with start_local_cluster(2) as cluster, Client(cluster) as active:
        yield active


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep-config") / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory, config_path, client):
    out = tmp_path_factory.mktemp("sweep")
    calls = []
    result = run_sweep(
        config_path, {"beta_plus": [0.1, 0.3]}, out, seeds=[0, 1], client=client, progress=lambda d, t: calls.append((d, t))
    )
    return out, result, calls


@pytest.mark.slow
def test_sweep_writes_run_files_and_index(finished_sweep):
    out, result, calls = finished_sweep
    assert sorted(path.name for path in out.glob("*.h5")) == [
        "beta_plus=0.1-seed0.h5",
        "beta_plus=0.1-seed1.h5",
        "beta_plus=0.3-seed0.h5",
        "beta_plus=0.3-seed1.h5",
    ]
    index = read_index(out)
    assert index["kind"] == "conditioning"
    assert index["grid"] == {"beta_plus": [0.1, 0.3]}
    assert index["seeds"] == [0, 1]
    assert [task["status"] for task in index["tasks"]] == ["done"] * 4
    assert [task["attempts"] for task in index["tasks"]] == [1] * 4
    assert all(task["wall_seconds"] > 0 for task in index["tasks"])
    assert calls[-1] == (4, 4)
    assert not result.failed


@pytest.mark.slow
def test_rerun_skips_complete_tasks(finished_sweep, config_path, client):
    out, _, _ = finished_sweep
    mtimes = {path.name: path.stat().st_mtime_ns for path in out.glob("*.h5")}
    result = run_sweep(config_path, {"beta_plus": [0.1, 0.3]}, out, seeds=[0, 1], client=client)
    assert all(task["skipped"] for task in result.tasks)
    assert [task["attempts"] for task in result.tasks] == [1] * 4
    assert {path.name: path.stat().st_mtime_ns for path in out.glob("*.h5")} == mtimes


@pytest.mark.slow
def test_sweep_report_aggregates_seeds(finished_sweep, close_figures):
    out, _, _ = finished_sweep
    summary = summarize_sweep(out)
    rows = [row for row in summary.rows if row["learner"] == "blocking.Control" and row["metric"] == "strength_B"]
    assert [row["point"] for row in rows] == ["beta_plus=0.1", "beta_plus=0.3"]
    assert all(row["n_seeds"] == 2 for row in rows)
    assert all(row["sd"] >= 0 for row in rows)
    x, mean, sd = summary.curves["strength_B"]["blocking.Control"]["beta_plus=0.1"]
    assert x.shape == mean.shape == sd.shape == (32,)
    report = write_sweep_report(out)
    assert report.summary_path.read_text().count("strength_B") == 4
    assert (report.directory / "curve_strength_B.png") in report.plots


def test_failing_task_is_retried_and_reported(tmp_path, config_path, client):
    # An unknown dataset passes config validation and raises inside the task.
    result = run_sweep(config_path, {"dataset": ["nosuch"]}, tmp_path, seeds=[0], client=client, retries=1)
    assert len(result.failed) == 1
    task = result.failed[0]
    assert task["attempts"] == 2
    assert "nosuch" in task["error"]
    assert task["traceback"]
    saved = json.loads((tmp_path / "index.json").read_text())
    assert saved["tasks"][0]["status"] == "failed"
    assert saved["tasks"][0]["error"] == task["error"]


def test_workers_have_one_thread(client):
    def environment():
        import torch

        return {name: os.environ.get(name) for name in THREAD_ENV}, torch.get_num_threads()

    results = client.gather([client.submit(environment, pure=False, key=f"env-{i}") for i in range(2)])
    for variables, torch_threads in results:
        assert variables == THREAD_ENV
        assert torch_threads == 1
    assert all(worker["nthreads"] == 1 for worker in client.scheduler_info()["workers"].values())


def test_parse_grid_values():
    grid = parse_grid(["binding.budget_pairs=1000,2000", "learners.som.topology=hexagonal,rectangular", "x=[1, 2],[3]"])
    assert grid == {
        "binding.budget_pairs": [1000, 2000],
        "learners.som.topology": ["hexagonal", "rectangular"],
        "x": [[1, 2], [3]],
    }


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["budget_pairs"], "write KEY=V1,V2"),
        (["=1,2"], "write KEY=V1,V2"),
        (["a..b=1"], "Invalid --grid key 'a..b'"),
        (["seeds=1,2"], "give the seeds with --seeds"),
        (["a=1", "a=2"], "'a' is given twice"),
        (["a="], "has no values"),
        (["a=1,,2"], "empty value"),
        (["a=1,1"], "lists a value twice"),
    ],
)
def test_parse_grid_errors(specs, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid(specs)


def test_parse_seeds():
    assert parse_seeds("0:3") == [0, 1, 2]
    assert parse_seeds("4") == [4]
    assert parse_seeds("1,5") == [1, 5]
    with pytest.raises(ConfigError, match="selects no seed"):
        parse_seeds("3:3")
    with pytest.raises(ConfigError, match="Invalid --seeds 'a:b'"):
        parse_seeds("a:b")


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ({"binding.budget_pairs": 0}, "Key 'binding.budget_pairs' in grid point binding.budget_pairs=0 must be >= 1"),
        ({"binding.budget_pair": 10}, "Unknown key 'binding.budget_pair'.*did you mean 'budget_pairs'"),
        ({"learners.delta.beta_plus": -1.0}, "Key 'learners.delta.beta_plus' .* must be > 0"),
        ({"name.x": 1}, "'name' is a value, not a table"),
    ],
)
def test_grid_point_errors_name_the_key(point, message):
    kind, config = load_experiment("binding", quick=True)
    with pytest.raises(ConfigError, match=message):
        apply_point(kind, config, point)


def test_grid_point_sets_dotted_key():
    kind, config = load_experiment("binding", quick=True)
    changed = apply_point(kind, config, {"binding.budget_pairs": 400, "learners.delta.beta_plus": 0.01})
    assert changed.binding.budget_pairs == 400
    assert changed.learner("delta").params["beta_plus"] == 0.01
    assert changed.quick


def test_spiking_grid_point():
    kind, config = load_experiment("spiking-conditioning", quick=True)
    changed = apply_point(kind, config, {"protocol.n_conditioning_trials": 8})
    assert changed.spiking_config().protocol.n_conditioning_trials == 8
    with pytest.raises(ConfigError, match="Unknown protocol setting"):
        apply_point(kind, config, {"protocol.n_trials": 8})


def test_task_name_is_file_safe():
    assert task_name({"a.b": 1, "c": "x/y"}, 3) == "a.b=1-c=x_y-seed3"
    assert task_name({}, 0) == "base-seed0"


def test_cli_exits_nonzero_on_failure(tmp_path, config_path, client, capsys):
    from assoc.cli import main

    argv = ["sweep", str(config_path), "--grid", "dataset=nosuch", "--seeds", "0", "--retries", "0",
            "--scheduler", client.scheduler.address, "--out", str(tmp_path), "--no-report"]  # fmt: skip
    assert main(argv) == 1
    output = capsys.readouterr().out
    assert "FAILED dataset=nosuch-seed0 after 1 attempt(s)" in output
    assert "0 of 1 tasks done" in output


def test_cli_rejects_bad_grid_key(tmp_path, config_path):
    from assoc.cli import main

    argv = ["sweep", str(config_path), "--grid", "beta_pluss=0.1", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert not (tmp_path / "index.json").exists()


@pytest.mark.slow
def test_cli_report_of_sweep_directory(finished_sweep, tmp_path, capsys, close_figures):
    from assoc.cli import main

    out, _, _ = finished_sweep
    assert main(["report", str(out), "--out", str(tmp_path)]) == 0
    assert "| beta_plus=0.3 | blocking.Blocking | strength_B |" in capsys.readouterr().out
    assert (tmp_path / "summary.md").is_file()
    assert (tmp_path / "curve_strength_B.png").is_file()


@pytest.mark.slow
def test_spiking_protocol_runs_as_sweep(tmp_path, client):
    result = run_sweep("spiking-conditioning", {"network.n_neurons": [20]}, tmp_path, seeds=[0], quick=True, client=client)
    assert not result.failed
    assert (tmp_path / "network.n_neurons=20-seed0.h5").is_file()
    summary = summarize_sweep(tmp_path)
    metrics = {row["metric"] for row in summary.rows}
    assert "posttest_cross_modal_fraction_auditory" in metrics
    assert "cs_fraction_auditory" in summary.curves
