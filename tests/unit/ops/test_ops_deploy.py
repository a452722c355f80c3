"""deploy/: the Kubernetes manifests validate against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict) and say what the README promises; the Dockerfile and the
systemd unit keep their hardening."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
K8S = DEPLOY / "kubernetes"
K8S_VERSION = "1.30"


def docs() -> list[dict[str, Any]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in docs() if d["kind"] == kind]


def known_env() -> set[str]:
    from pggw.config import Options, env_name

    names = {env_name(p[0]) for p in Options.optParameters}
    names |= {env_name(f[0]) for f in Options.optFlags}
    return names | {"PGGW_SHUTDOWN_GRACE", "PGGW_REPLICA", "PGGW_HTTP_URL"}


@pytest.mark.parametrize("doc", docs(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_is_valid(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_validation_catches_mistakes() -> None:
    (sts,) = by_kind("StatefulSet")
    bad = copy.deepcopy(sts)
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "5432"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)
    bad = copy.deepcopy(sts)
    bad["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kust["resources"]) == files
    kubectl = shutil.which("kubectl")
    if kubectl:
        out = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True,
                             text=True, check=True, timeout=60).stdout
        rendered = [d for d in yaml.safe_load_all(out) if d]
        assert len(rendered) == len(docs())
        for d in rendered:
            kubernetes_validate.validate(d, K8S_VERSION, strict=True)


def test_statefulset_shape() -> None:
    (sts,) = by_kind("StatefulSet")
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    (c,) = pod["containers"]
    (cm,) = by_kind("ConfigMap")
    # per-replica volume for the WAL, kept when scaled down or deleted
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts["data"] == "/var/lib/pggw"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain",
                                                            "whenScaled": "Retain"}
    # graceful shutdown fits in the grace period
    grace = float(cm["data"]["PGGW_SHUTDOWN_GRACE"])
    prestop = c["lifecycle"]["preStop"]["exec"]["command"]
    assert prestop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= grace + float(prestop[1]) + 20
    # probes: liveness on /healthz, readiness on /readyz (never on CDF)
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    # non-root, read-only root, no privilege
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # the replica's identity comes from its pod name
    env = {e["name"]: e for e in c["env"]}
    assert env["PGGW_REPLICA"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # options from the ConfigMap, secrets from the Secrets
    assert c["envFrom"] == [{"configMapRef": {"name": cm["metadata"]["name"]}}]
    secrets = {s["metadata"]["name"]: s for s in by_kind("Secret")}
    ref = env["PGGW_CDF_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] in secrets[ref["name"]]["stringData"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] in secrets
    assert secrets["pggw-tls"]["type"] == "kubernetes.io/tls"
    key_mount = mounts["secret-key"] + "/" + volumes["secret-key"]["secret"]["items"][0]["path"]
    assert cm["data"]["PGGW_SECRET_KEY_FILE"] == key_mount
    assert cm["data"]["PGGW_TLS_CERT"].startswith(mounts["tls"] + "/")
    # the Service and the PDB select these pods; ports line up
    labels = spec["template"]["metadata"]["labels"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"postgres": 5432, "http": 8080}
    for svc in by_kind("Service"):
        assert svc["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in svc["spec"]["ports"]} <= set(ports)
    assert any(s["spec"].get("clusterIP") == "None" and s["metadata"]["name"] ==
               spec["serviceName"] for s in by_kind("Service"))
    (pdb,) = by_kind("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_configmap_names_real_options() -> None:
    (cm,) = by_kind("ConfigMap")
    unknown = set(cm["data"]) - known_env()
    assert not unknown, f"not pggw options: {unknown}"


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2  # multi-stage
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and not users[-1].startswith(("root", "0"))
    assert re.search(r'^VOLUME \["/var/lib/pggw"\]', text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", text, re.M)
    assert re.search(r'^ENTRYPOINT \["twistd", "--nodaemon", "--pidfile=", "pggw"\]', text,
                     re.M)
    assert re.search(r"^EXPOSE 5432 8080", text, re.M)
    assert "PGGW_DATA_DIR=/var/lib/pggw" in text
    root = DEPLOY.parent
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for part in src.split():
            assert (root / part).exists(), part
    env = set(re.findall(r"\b(PGGW_[A-Z_]+)=", text))
    assert env <= known_env()


UNIT = DEPLOY / "systemd" / "pggw.service"


def test_systemd_unit_hardening() -> None:
    text = UNIT.read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert re.search(r"^ExecStart=\S*twistd --nodaemon --pidfile= pggw", text, re.M)
    for key, value in {"DynamicUser": "yes", "StateDirectory": "pggw",
                       "ProtectSystem": "strict", "ProtectHome": "yes",
                       "NoNewPrivileges": "yes", "PrivateTmp": "yes",
                       "KillSignal": "SIGTERM", "CapabilityBoundingSet": ""}.items():
        assert settings.get(key) == value, key
    assert int(settings["TimeoutStopSec"]) >= 45


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    twistd = Path(sys.executable)  # any executable: verify checks that ExecStart exists
    unit = tmp_path / "pggw.service"
    unit.write_text(UNIT.read_text().replace("/opt/pggw/bin/twistd", str(twistd)))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "pggw.service" not in r.stderr, r.stderr  # no warnings about our unit
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 0 or "Overall exposure level" in r.stdout:
        m = re.search(r"Overall exposure level for pggw.service: ([\d.]+)", r.stdout)
        assert m and float(m.group(1)) <= 2.0, r.stdout[-500:]
