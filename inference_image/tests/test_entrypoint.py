"""The entrypoint, run for real against stand-in GPU, TensorRT, store and server tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from google.protobuf import text_format
from inference_image_support import ENTRYPOINT, SAMPLE_CONFIG, SAMPLE_MODEL, SAMPLE_ONNX, Harness
from tritonclient.grpc import model_config_pb2


def sample_config() -> model_config_pb2.ModelConfig:
    return text_format.Parse(SAMPLE_CONFIG.read_text(), model_config_pb2.ModelConfig())


def test_empty_cache_builds_fp16_engine_with_dynamic_batch_profile_then_execs_triton(harness: Harness):
    run = harness.run()

    assert run.returncode == 0, run.stderr
    [build] = run.builds()
    config = sample_config()
    [model_input] = config.input
    row = "x".join(str(d) for d in model_input.dims)
    argv = build["argv"]
    assert f"--onnx={SAMPLE_ONNX}" in argv
    assert "--fp16" in argv
    assert f"--minShapes={model_input.name}:1x{row}" in argv
    assert f"--optShapes={model_input.name}:{config.max_batch_size}x{row}" in argv
    assert f"--maxShapes={model_input.name}:{config.max_batch_size}x{row}" in argv
    [plan] = harness.plans()
    assert "-sm86-trt100800-" in plan.name

    [server] = run.calls_to("tritonserver")
    # exec, not a child process: the server's parent is whoever ran the entrypoint.
    assert server["ppid"] == os.getpid()
    assert server["argv"] == [
        f"--model-repository={harness.repository}",
        "--model-control-mode=none",
        "--disable-auto-complete-config",
        "--strict-readiness=true",
        "--exit-on-error=true",
        "--http-port=8000",
        "--grpc-port=8001",
        "--metrics-port=8002",
        "--allow-metrics=true",
        "--allow-gpu-metrics=true",
    ]
    served = server["extra"]
    assert served[f"{config.name}/1/model.plan"] == str(plan)
    assert f"{config.name}/1/model.onnx" not in served
    assert (harness.repository / config.name / "config.pbtxt").read_text() == SAMPLE_CONFIG.read_text()


def test_second_start_reuses_the_cached_engine(harness: Harness):
    first = harness.run()
    second = harness.run()

    assert first.returncode == second.returncode == 0, second.stderr
    assert len(first.builds()) == 1
    assert second.builds() == []
    assert "reusing engine" in second.stderr
    assert len(harness.plans()) == 1
    assert len(second.calls_to("tritonserver")) == 1


def assert_rebuilds_when(harness: Harness, before: dict[str, str], after: dict[str, str]) -> None:
    """Only `after` differs from `before`: a second start must build a second, separate engine."""
    assert len(harness.run(**before).builds()) == 1
    run = harness.run(**after)
    assert run.returncode == 0, run.stderr
    assert len(run.builds()) == 1, "the cache key ignored what changed: a stale engine was reused"
    assert len(harness.plans()) == 2
    served = run.calls_to("tritonserver")[0]["extra"]["tiny_linear/1/model.plan"]
    assert Path(served).read_text().endswith(f"cc={after.get('FAKE_CC', '8.6')} trt={after.get('FAKE_TRT', '100800')}")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"FAKE_CC": "8.6"}, {"FAKE_CC": "9.0"}),
        ({"FAKE_TRT": "100800"}, {"FAKE_TRT": "100900"}),
        ({"TRT_PRECISION": "fp16"}, {"TRT_PRECISION": "fp32"}),
    ],
    ids=["compute-capability", "tensorrt-version", "precision"],
)
def test_engine_is_rebuilt_when_a_key_component_changes(harness: Harness, before, after):
    assert_rebuilds_when(harness, before, after)


def test_engine_is_rebuilt_when_the_model_changes(harness: Harness, tmp_path: Path):
    store = tmp_path / "store"
    shutil.copytree(SAMPLE_MODEL, store / SAMPLE_MODEL.name)
    assert len(harness.run(SAMPLE_MODEL_STORE=str(store)).builds()) == 1
    onnx_file = store / SAMPLE_MODEL.name / "1" / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")

    run = harness.run(SAMPLE_MODEL_STORE=str(store))

    assert len(run.builds()) == 1
    assert len(harness.plans()) == 2


@pytest.mark.parametrize(
    ("mutation", "broken_key"),
    [
        ("compute_cap.replace('.', '')", "'any'"),
        ("trt{trt_version}", "trt"),
    ],
    ids=["key-ignores-compute-capability", "key-ignores-tensorrt-version"],
)
def test_rebuild_check_catches_an_entrypoint_whose_key_ignores_a_component(tmp_path: Path, mutation, broken_key):
    source = ENTRYPOINT.read_text()
    assert source.count(mutation) == 1, "the mutation no longer applies: update this test with the cache key code"
    mutant = tmp_path / "entrypoint_mutant.py"
    mutant.write_text(source.replace(mutation, broken_key))
    changed = {"FAKE_CC": "9.0"} if "compute" in mutation else {"FAKE_TRT": "100900"}

    with pytest.raises(AssertionError, match="stale engine"):
        assert_rebuilds_when(Harness(tmp_path / "run", entrypoint=mutant), {}, changed)


@pytest.mark.parametrize(
    ("url", "env", "rclone_source"),
    [
        ("s3://models-eu-west-1/prod", {}, ":s3,provider=AWS,env_auth=true:models-eu-west-1/prod"),
        ("gs://models-europe-west4/prod/", {}, ":gcs,env_auth=true,bucket_policy_only=true:models-europe-west4/prod"),
        (
            "az://models/prod",
            {"AZURE_STORAGE_ACCOUNT": "mcinfweu"},
            ":azureblob,account=mcinfweu,env_auth=true:models/prod",
        ),
        (
            "https://mcinfweu.blob.core.windows.net/models/prod",
            {},
            ":azureblob,account=mcinfweu,env_auth=true:models/prod",
        ),
    ],
    ids=["s3", "gcs", "azure-az", "azure-https"],
)
def test_models_are_fetched_from_the_region_store_with_workload_identity(harness: Harness, url, env, rclone_source):
    harness.put_remote_model()

    run = harness.run(MODEL_STORE_URL=url, **env)

    assert run.returncode == 0, run.stderr
    [fetch] = run.calls_to("rclone")
    assert fetch["argv"][-2:] == [rclone_source, harness.env["MODEL_STORE_DIR"]]
    [build] = run.builds()
    assert f"--onnx={Path(harness.env['MODEL_STORE_DIR']) / 'tiny_linear' / '1' / 'model.onnx'}" in build["argv"]
    assert "tiny_linear/1/model.plan" in run.calls_to("tritonserver")[0]["extra"]


def test_extra_triton_args_are_appended(harness: Harness):
    run = harness.run(TRITON_EXTRA_ARGS="--log-verbose=1 --id='eu west'")

    assert run.calls_to("tritonserver")[0]["argv"][-2:] == ["--log-verbose=1", "--id=eu west"]


def refused(run, *phrases: str) -> None:
    assert run.returncode != 0
    assert run.calls_to("tritonserver") == [], "the server must not start after a failure"
    for phrase in phrases:
        assert phrase in run.stderr, f"{phrase!r} missing from:\n{run.stderr}"


def test_no_gpu_visible_is_refused(harness: Harness):
    refused(harness.run(FAKE_NO_GPU="1"), "no GPU visible", "couldn't communicate with the NVIDIA driver", "--gpus all")


def test_missing_nvidia_smi_is_refused(harness: Harness):
    harness.remove_tool("nvidia-smi")
    refused(harness.run(), "no GPU visible", "nvidia.com/gpu")


def test_mixed_gpu_architectures_are_refused(harness: Harness):
    refused(harness.run(FAKE_CC="8.6,9.0"), "one engine serves one GPU architecture")


def test_failed_engine_build_is_refused_and_leaves_no_plan(harness: Harness):
    run = harness.run(FAKE_TRTEXEC_FAIL="1")

    refused(run, "engine build failed for tiny_linear/1", "unsupported operator FancyOp", "Fix:")
    assert harness.plans() == []
    # The next start tries again instead of trusting a half-written file.
    assert len(harness.run().builds()) == 1


def test_unreadable_store_is_refused(harness: Harness):
    run = harness.run(MODEL_STORE_URL="s3://models-eu-west-1/prod", FAKE_RCLONE_FAIL="1")

    refused(run, "cannot read the model store s3://models-eu-west-1/prod", "AccessDenied", "s3:GetObject")
    assert run.builds() == []


def test_empty_store_serves_the_bundled_sample_so_a_new_region_answers(harness: Harness):
    harness.remote.mkdir()

    run = harness.run(MODEL_STORE_URL="gs://models-europe-west4/prod")

    assert run.returncode == 0, run.stderr
    assert "tiny_linear/1/model.plan" in run.calls_to("tritonserver")[0]["extra"]


def test_empty_store_without_the_sample_is_refused(harness: Harness):
    harness.remote.mkdir()

    run = harness.run(MODEL_STORE_URL="gs://models-europe-west4/prod", SERVE_SAMPLE_MODEL="false")

    refused(run, "no model found in gs://models-europe-west4/prod", "SERVE_SAMPLE_MODEL")


def test_store_models_are_served_beside_the_sample(harness: Harness, tmp_path: Path):
    other = harness.remote / "other_linear"
    shutil.copytree(SAMPLE_MODEL, other)
    config = other / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "tiny_linear"', 'name: "other_linear"'))

    run = harness.run(MODEL_STORE_URL="s3://models-eu-west-1/prod")

    assert run.returncode == 0, run.stderr
    served = run.calls_to("tritonserver")[0]["extra"]
    assert {"other_linear/1/model.plan", "tiny_linear/1/model.plan"} <= set(served)


def test_a_store_model_named_like_the_sample_replaces_it(harness: Harness):
    harness.put_remote_model()

    run = harness.run(MODEL_STORE_URL="s3://models-eu-west-1/prod")

    assert run.returncode == 0, run.stderr
    [build] = run.builds()
    assert f"--onnx={Path(harness.env['MODEL_STORE_DIR']) / 'tiny_linear' / '1' / 'model.onnx'}" in build["argv"]
    assert "replaces the bundled sample" in run.stderr


def test_model_without_onnx_is_refused(harness: Harness):
    (harness.remote / "tiny_linear").mkdir(parents=True)
    shutil.copy(SAMPLE_CONFIG, harness.remote / "tiny_linear" / "config.pbtxt")

    refused(harness.run(MODEL_STORE_URL="s3://models-eu-west-1/prod"), "'tiny_linear' has no <version>/model.onnx")


def test_model_without_config_is_refused(harness: Harness):
    (harness.remote / "tiny_linear" / "1").mkdir(parents=True)
    shutil.copy(SAMPLE_ONNX, harness.remote / "tiny_linear" / "1" / "model.onnx")

    refused(harness.run(MODEL_STORE_URL="s3://models-eu-west-1/prod"), "'tiny_linear' has no config.pbtxt")


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({"MODEL_STORE_URL": "ftp://models/prod"}, "is not supported: use s3://"),
        ({"MODEL_STORE_URL": "az://models/prod"}, "needs AZURE_STORAGE_ACCOUNT"),
        ({"SERVE_SAMPLE_MODEL": "yes"}, "SERVE_SAMPLE_MODEL='yes' must be true or false"),
        ({"TRT_PRECISION": "int4"}, "set it to fp16 or fp32"),
        ({"TRT_OPT_BATCH_SIZE": "0"}, "must be a positive integer"),
    ],
)
def test_bad_settings_are_refused(harness: Harness, env, phrase):
    refused(harness.run(**env), phrase)


def test_missing_trtexec_is_refused(harness: Harness):
    harness.remove_tool("trtexec")
    refused(harness.run(), "trtexec not found on PATH")


def test_opt_batch_size_tunes_the_profile_within_max(harness: Harness):
    run = harness.run(TRT_OPT_BATCH_SIZE="4")

    assert "--optShapes=input:4x4" in run.builds()[0]["argv"]
