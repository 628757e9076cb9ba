"""The deployment files: Kubernetes manifests valid against the Kubernetes schemas, and the
rules the platform relies on (probes, limits, secrets referenced never inlined)."""

import json
from pathlib import Path

import kubernetes_validate
import pytest
import typer
import yaml

from services import cli
from services.apps import ServiceName

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
MANIFESTS = sorted(p for p in (DEPLOY / "kubernetes").glob("*.yaml") if p.name != "kustomization.yaml")
DOCS = [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def kinds(kind: str) -> list[dict]:
    return [d for d in DOCS if d["kind"] == kind]


def containers(doc: dict) -> list[dict]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]["containers"]


@pytest.mark.parametrize("doc", DOCS, ids=[f"{d['kind']}/{d['metadata']['name']}" for d in DOCS])
def test_every_manifest_is_valid_against_the_kubernetes_schema(doc):
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == [p.name for p in MANIFESTS]


def test_services_have_probes_limits_autoscaling_and_disruption_budgets():
    deployments = kinds("Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {"register", "matching", "adopter-app"}
    for deployment in deployments:
        for container in containers(deployment):
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert {"requests", "limits"} <= set(container["resources"])
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in kinds("HorizontalPodAutoscaler")}
    budgets = {p["metadata"]["name"] for p in kinds("PodDisruptionBudget")}
    assert targets == budgets == {"register", "matching", "adopter-app"}


def test_migrations_job_nightly_jobs_and_network_policies():
    assert [containers(j)[0]["args"] for j in kinds("Job")] == [["migrate"]]
    assert sorted(containers(c)[0]["args"] for c in kinds("CronJob")) == [
        ["fees", "raise-due"],
        ["match"],
        ["notifications", "send", "--once"],
        ["webhooks", "deliver", "--once"],
    ]
    # Only two workers may leave the cluster: the webhook worker to HTTPS outside private
    # ranges, and the notification sender to mail submission ports.
    outside = {
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]: p["spec"]["egress"][0]
        for p in kinds("NetworkPolicy")
        if any("0.0.0.0/0" in str(rule) for rule in p["spec"].get("egress", []))
    }
    assert set(outside) == {"webhooks-deliver", "notifications-send"}
    assert outside["webhooks-deliver"]["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert "10.0.0.0/8" in outside["webhooks-deliver"]["to"][0]["ipBlock"]["except"]
    assert outside["notifications-send"]["ports"] == [
        {"port": 587, "protocol": "TCP"},
        {"port": 465, "protocol": "TCP"},
    ]
    deny = [p for p in kinds("NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_secrets_are_referenced_never_inlined():
    assert kinds("Secret") == []
    for doc in DOCS:
        if doc["kind"] in ("Deployment", "Job", "CronJob"):
            for container in containers(doc):
                env = {e["name"]: e for e in container.get("env", [])}
                assert "secretKeyRef" in env["DATABASE_URL"]["valueFrom"]
                assert container["securityContext"]["allowPrivilegeEscalation"] is False
    text = "\n".join(p.read_text() for p in MANIFESTS) + (DEPLOY / "compose.yaml").read_text()
    assert "postgresql://" not in text.replace("postgresql://adoption:${POSTGRES_PASSWORD}", "")


def test_image_is_multi_stage_and_non_root():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2 and "USER 10001" in dockerfile
    final_stage = dockerfile.split("FROM ")[-1]
    assert "pip wheel" not in final_stage and "gcc" not in final_stage
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"postgres", "migrate", "register", "matching"} <= set(compose["services"])


def test_compose_services_that_hold_webhook_secrets_are_given_the_sealing_key():
    # The register stores the secrets and the webhooks worker opens them: without the key the
    # register would store them unsealed, and the worker could not sign a delivery.
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in ("migrate", "register", "webhooks"):
        key = compose["services"][name]["environment"].get("WEBHOOK_SECRET_KEY", "")
        assert key.startswith("${WEBHOOK_SECRET_KEY:?"), f"{name}: WEBHOOK_SECRET_KEY must come from the environment"


def deployed_commands() -> list[list[str]]:
    """Every argument list the deployment files give the image's entrypoint."""
    commands = [c["args"] for doc in DOCS if doc["kind"] in ("Deployment", "Job", "CronJob") for c in containers(doc)]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    commands += [s["command"] for s in compose["services"].values() if "command" in s]
    cmd_line = next(line for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return [*commands, json.loads(cmd_line.removeprefix("CMD "))]


def parse_cli(args: list[str]) -> typer.Context:
    """Parse as `adoption-register` would, without running anything (no group-level options)."""
    command = typer.main.get_command(cli.app)
    parent = typer.Context(command, info_name="adoption-register")
    while hasattr(command, "get_command"):  # a group: the next word names its subcommand
        name, *args = args
        command = command.get_command(parent, name)
        assert command is not None, f"no command {name!r}"
        parent = typer.Context(command, info_name=name, parent=parent)
    return command.make_context(parent.info_name, args, parent=parent.parent)


@pytest.mark.parametrize("args", deployed_commands(), ids=" ".join)
def test_every_command_the_deployment_runs_is_one_the_cli_accepts(args):
    ctx = parse_cli(args)
    if args[0] == "serve":
        # Each Deployment serves one API (or the adopters' app); only the developer's `serve` serves both.
        assert ctx.params["service"] in (ServiceName.register, ServiceName.matching, ServiceName.adopter_app)
        assert ctx.params["host"] == "0.0.0.0"


def test_a_misspelt_option_is_refused_by_the_parser_the_deployment_test_uses():
    with pytest.raises(Exception, match="No such option"):
        parse_cli(["serve", "--servce", "register"])
    with pytest.raises(typer.BadParameter):
        parse_cli(["serve", "--service", "everything"])
    with pytest.raises(AssertionError, match="no command"):
        parse_cli(["fees", "raise-overdue"])
