"""The GitHub Actions workflows: valid against GitHub's workflow schema (the copy check-jsonschema
ships), and each running what the README says it runs."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.paths import PROJECT_ROOT

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))
CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
    "check-jsonschema")


def steps(workflow: Path) -> list[str]:
    jobs = yaml.safe_load(workflow.read_text())["jobs"].values()
    return [step.get("run", step.get("uses", "")) for job in jobs for step in job["steps"]]


def test_there_are_the_three_workflows():
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "nightly-hardware.yml", "nightly-qemu.yml"]


@pytest.mark.skipif(CHECK_JSONSCHEMA is None, reason="check-jsonschema is not installed (the test extra has it)")
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_each_workflow_is_valid_against_githubs_schema(workflow):
    result = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", str(workflow)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_requests_run_the_projects_ci_script():
    workflow = PROJECT_ROOT / ".github/workflows/ci.yml"
    assert "pull_request" in yaml.safe_load(workflow.read_text())[True]  # YAML reads the key `on` as True
    assert "bash .ci/run" in steps(workflow)


@pytest.mark.parametrize("name, target", [("nightly-qemu.yml", "qemu-m33"), ("nightly-hardware.yml", "u585")])
def test_nightly_jobs_gate_on_the_baseline_and_keep_their_results(name, target):
    workflow = PROJECT_ROOT / ".github/workflows" / name
    ran = steps(workflow)
    assert f"bash .ci/nightly {target}" in ran
    assert "actions/upload-artifact@v4" in ran
    text = workflow.read_text()
    assert f"results/junit-{target}.xml" in text and "results/report/" in text


def test_the_hardware_job_runs_on_the_labels_the_readme_names():
    job = yaml.safe_load((PROJECT_ROOT / ".github/workflows/nightly-hardware.yml").read_text())["jobs"]["u585"]
    assert job["runs-on"] == ["self-hosted", "linux", "hil-u585"]
    assert "`self-hosted`, `linux`, `hil-u585`" in (PROJECT_ROOT / "README.md").read_text()
