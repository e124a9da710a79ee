"""A real, local Kubernetes control plane for the e2e tests: etcd and kube-apiserver
built from their Go modules (scripts/build-go, e2e/go.mod) and run as plain processes
on loopback, with the upstream Forklift and ecosystem CRDs (../shared/crds) installed.

What is real here: the API server's admission chain, its OpenAPI and structural
schema validation of every custom resource (strict field validation, as
`kubectl apply --server-side --validate=strict` asks), server-side apply and its
field ownership, defaulting, label selectors, RBAC and bearer-token auth.
What is not: no kubelet, no controller manager, no Forklift controller (the module
proxy refuses github.com/kubev2v/forklift, README "The real control plane"), so no
object gets a status from a controller.

Start and stop it by hand with `scripts/controlplane` (prints the kubeconfig);
the tests start one per session (tests/e2e/conftest.py). Everything it writes lives
under .cache/e2e/: certificates, the kubeconfig, etcd's data and the logs
(.cache/e2e/logs/). It never touches another kubeconfig. Teardown stops exactly
the processes it started, on failure and on Ctrl-C too.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".cache" / "bin"
HOME = ROOT / ".cache" / "e2e"
SHARED = ROOT.parent / "shared" / "crds"
OWN_CRDS = Path(__file__).resolve().parent / "crds"
TOKEN = "e2e-admin-token"          # throwaway bearer tokens for a loopback-only server
NOBODY = "e2e-nobody-token"        # authenticated, bound to no role: every request is 403
KUBECTL = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "kubectl"


class StartError(RuntimeError):
    """A component did not build or start: its name and the end of its log."""


def free_port() -> int:
    """A port no one listens on now (a port in use is never chosen)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ControlPlane:
    def __init__(self, home: Path = HOME):
        self.home = home
        self.logs = home / "logs"
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.kubeconfig = home / "kubeconfig"
        self.url = ""
        self.timings: dict[str, float] = {}

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "ControlPlane":
        for name in ("etcd", "kube-apiserver"):
            if not (BIN / name).exists():
                raise StartError(f"{name} is not built: run scripts/build-go")
        if self.home.exists():
            shutil.rmtree(self.home)           # a fresh etcd: nothing of an earlier run leaks in
        self.logs.mkdir(parents=True)
        atexit.register(self.stop)
        t0 = time.monotonic()
        self._certs()
        self._etcd()
        self.timings["etcd"] = time.monotonic() - t0
        self._apiserver()
        self.timings["kube-apiserver"] = time.monotonic() - t0
        self._crds()
        self.timings["crds"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")
        # its own process group: a Ctrl-C to the test run reaches us, we stop it
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        log.close()
        self.procs.append((name, p))
        return p

    def _wait(self, name: str, ready, deadline: float) -> None:
        proc = dict(self.procs)[name]
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise StartError(f"{name} exited with {proc.returncode} while starting; its log "
                                 f"({self.logs / (name + '.log')}) ends:\n{_tail(self.logs / (name + '.log'))}")
            if ready():
                return
            time.sleep(0.2)
        raise StartError(f"{name} was not ready after {deadline:g} s; its log ends:\n"
                         f"{_tail(self.logs / (name + '.log'))}")

    # ---------------------------------------------------------------- parts

    def _openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.home)

    def _certs(self) -> None:
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        self._openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=mtvgen-e2e-ca")
        self._openssl("req", *ec, "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver")
        (self.home / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        self._openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                      "-out", "apiserver.crt", "-days", "2", "-extfile", "san.ext")
        self._openssl("genrsa", "-out", "sa.key", "2048")
        (self.home / "tokens.csv").write_text(f"{TOKEN},e2e-admin,e2e-admin,system:masters\n"
                                              f"{NOBODY},e2e-nobody,e2e-nobody\n")

    def _etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        self._spawn("etcd", [str(BIN / "etcd"), "--data-dir", str(self.home / "etcd"), "--name", "e2e",
                             "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
                             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"e2e=http://127.0.0.1:{peer}",
                             "--unsafe-no-fsync",      # a test cluster: speed over durability
                             "--log-level", "warn"])
        self._wait("etcd", lambda: _get(f"{self.etcd_url}/health") == 200, 60)

    def _apiserver(self) -> None:
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        h = self.home
        self._spawn("kube-apiserver", [
            str(BIN / "kube-apiserver"), "--etcd-servers", self.etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(port),
            "--tls-cert-file", str(h / "apiserver.crt"), "--tls-private-key-file", str(h / "apiserver.key"),
            "--service-account-key-file", str(h / "sa.key"), "--service-account-signing-key-file", str(h / "sa.key"),
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--token-auth-file", str(h / "tokens.csv"), "--authorization-mode", "RBAC",
            "--service-cluster-ip-range", "10.96.0.0/24",
            # no controller manager creates service-account tokens; nothing here runs pods
            "--disable-admission-plugins", "ServiceAccount",
            "--profiling=false", "--v", "1"])
        ca = ssl.create_default_context(cafile=str(h / "ca.crt"))
        self._wait("kube-apiserver", lambda: _get(f"{self.url}/readyz", ca, TOKEN) == 200, 120)
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
            "clusters": [{"name": "e2e", "cluster": {"server": self.url, "certificate-authority": str(h / "ca.crt")}}],
            "users": [{"name": "e2e-admin", "user": {"token": TOKEN}}, {"name": "e2e-nobody", "user": {"token": NOBODY}}],
            "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "e2e-admin"}},
                         {"name": "nobody", "context": {"cluster": "e2e", "user": "e2e-nobody"}}]}, indent=1))

    def _crds(self) -> None:
        """The upstream Forklift and ecosystem CRDs, plus minimal ones of our own for the
        kinds mtvgen reads on a target (NetworkAttachmentDefinition, KubeVirt VM)."""
        files = sorted(SHARED.glob("*.yaml")) + sorted((SHARED / "ecosystem").glob("*.yaml")) + \
            sorted(OWN_CRDS.glob("*.yaml"))
        if not any(SHARED.glob("*.yaml")):
            raise StartError(f"no CRDs in {SHARED}: the upstream CRDs come with ../shared")
        self.kubectl("apply", "--server-side", *sum((["-f", str(f)] for f in files), []))
        end = time.monotonic() + 60
        while time.monotonic() < end:      # `kubectl wait` fails on a CRD with no status yet
            items = json.loads(self.kubectl("get", "crd", "-o", "json").stdout)["items"]
            waiting = sorted(c["metadata"]["name"] for c in items if not any(
                x["type"] == "Established" and x["status"] == "True" for x in c.get("status", {}).get("conditions") or []))
            if not waiting:
                return
            time.sleep(0.2)
        raise StartError(f"CRDs not established after 60 s: {waiting}")

    # ---------------------------------------------------------------- use

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args], input=input,
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
        return r

    def get(self, path: str, token: str = TOKEN) -> tuple[int, dict]:
        """A raw GET, as a client sees it: the status code and the JSON body."""
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {token}"})
        ctx = ssl.create_default_context(cafile=str(self.home / "ca.crt"))
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of each process, from /proc (MB)."""
        out = {}
        for name, p in self.procs:
            try:
                for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        out[name] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return out


def _get(url: str, ca: ssl.SSLContext | None = None, token: str = "") -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, context=ca, timeout=2) as r:
            return r.status
    except Exception:       # noqa: BLE001 - not up yet, whatever the reason
        return 0


if __name__ == "__main__":
    cp = ControlPlane()
    try:
        cp.start()
        print(f"control plane up at {cp.url} ({cp.timings['crds']:.1f} s)\n"
              f"export KUBECONFIG={cp.kubeconfig}\nCtrl-C stops it", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        while True:
            time.sleep(3600)
    except StartError as exc:
        print(f"error: {exc}")
        raise SystemExit(1)
    except KeyboardInterrupt:
        pass
    finally:
        cp.stop()
