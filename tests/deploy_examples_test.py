#!/usr/bin/env python3
"""The deployment examples in docker/ are valid, and say what they mean.

- kubernetes.yaml and compose.yaml parse as YAML and hold what docker/README.md promises
  (probes on the health path, non-root, read-only root, no capabilities, resource requests);
- uring-okay.service and uring-okay.socket pass `systemd-analyze verify` without a single
  complaint, and the binary serves a socket passed as that socket unit passes it
  (systemd-socket-activate, which execs it on the first connection);
- each example's URING_OKAY_* environment is accepted by the real binary: a server started with
  it (on 127.0.0.1 and a free port) passes `uring-okay healthcheck` run with the same environment.

    tests/deploy_examples_test.py [BINARY]   (default build/static/uring-okay)
"""
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

TOP = pathlib.Path(__file__).resolve().parent.parent
DOCKER = TOP / "docker"
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
    return condition


def serves_with(binary, name, environment):
    """Starts the binary with `environment` (its address moved to 127.0.0.1:0), then runs its
    healthcheck with the same environment and the port it picked; both bounded in time."""
    env = {key: str(value) for key, value in environment.items()}
    env["URING_OKAY_LISTEN"] = "127.0.0.1:0"
    env.pop("PORT", None)
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([binary], env=env, stdout=log, stderr=log)
        try:
            port = None
            deadline = time.monotonic() + 5
            while port is None and time.monotonic() < deadline and server.poll() is None:
                log.seek(0)
                found = re.search(rb"listening on 127\.0\.0\.1:(\d+),", log.read())
                port = found and int(found.group(1))
                time.sleep(0.02)
            log.seek(0)
            if not check(port, f"{name}: no start-up line with its environment: {log.read()!r}"):
                return
            env["URING_OKAY_LISTEN"] = f"127.0.0.1:{port}"
            probe = subprocess.run([binary, "healthcheck"], env=env, capture_output=True,
                                   timeout=10)
            check(probe.returncode == 0,
                  f"{name}: healthcheck exited {probe.returncode}: {probe.stdout + probe.stderr!r}")
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)


def kubernetes(binary):
    documents = list(yaml.safe_load_all((DOCKER / "kubernetes.yaml").read_text()))
    kinds = [document["kind"] for document in documents]
    if not check(kinds == ["Deployment", "Service"], f"kubernetes.yaml: kinds {kinds}"):
        return
    deployment, service = documents
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {entry["name"]: entry["value"] for entry in container.get("env", [])}
    health_path = env.get("URING_OKAY_HEALTH_PATH", "/")
    port = int(env.get("URING_OKAY_LISTEN", "0.0.0.0:8080").rsplit(":", 1)[1])
    ports = {entry["name"]: entry["containerPort"] for entry in container["ports"]}
    check(ports.get("http") == port, f"kubernetes.yaml: containerPort {ports} is not {port}")
    for probe in ("readinessProbe", "livenessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == health_path and get.get("port") in ("http", port),
              f"kubernetes.yaml: {probe} {get} does not ask {health_path} on port {port}")
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    check(security.get("runAsNonRoot") is True, "kubernetes.yaml: runAsNonRoot")
    check(security.get("runAsUser") == 65534, "kubernetes.yaml: runAsUser 65534")
    check(security.get("readOnlyRootFilesystem") is True, "kubernetes.yaml: readOnlyRootFilesystem")
    check(security.get("allowPrivilegeEscalation") is False,
          "kubernetes.yaml: allowPrivilegeEscalation false")
    check(security.get("capabilities", {}).get("drop") == ["ALL"],
          "kubernetes.yaml: capabilities drop ALL")
    requests = container.get("resources", {}).get("requests", {})
    check({"cpu", "memory"} <= set(requests), f"kubernetes.yaml: resource requests {requests}")
    selector = deployment["spec"]["selector"]["matchLabels"]
    check(service["spec"]["selector"] == selector, "kubernetes.yaml: Service selects the pods")
    serves_with(binary, "kubernetes.yaml", env)


def compose(binary):
    document = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    (service,) = document["services"].values()
    build = service.get("build", {})
    context = (DOCKER / build.get("context", ".")).resolve()
    check((context / build.get("dockerfile", "")).is_file(),
          f"compose.yaml: no Dockerfile at {build}")
    check(service.get("read_only") is True, "compose.yaml: read_only")
    check(service.get("cap_drop") == ["ALL"], "compose.yaml: cap_drop ALL")
    check(service.get("stop_signal") == "SIGTERM", "compose.yaml: stop_signal SIGTERM")
    env = service.get("environment", {})
    listen_port = env.get("URING_OKAY_LISTEN", "0.0.0.0:8080").rsplit(":", 1)[1]
    published = [str(entry).rsplit(":", 1)[-1] for entry in service.get("ports", [])]
    check(listen_port in published, f"compose.yaml: port {listen_port} not in {published}")
    serves_with(binary, "compose.yaml", env)


def systemd_unit(binary):
    unit = (DOCKER / "uring-okay.service").read_text()
    exec_start = re.search(r"^ExecStart=(\S+)", unit, re.M)
    if not check(exec_start, "uring-okay.service: no ExecStart"):
        return
    env = dict(re.findall(r"^Environment=(\w+)=(.*)$", unit, re.M))
    serves_with(binary, "uring-okay.service", env)
    activated(binary, env)
    if shutil.which("systemd-analyze") is None:
        print("deploy_examples_test: systemd-analyze missing: the units are not verified")
        return
    with tempfile.TemporaryDirectory() as directory:
        # verify wants the ExecStart file to exist: point it at the binary under test. The
        # socket unit is verified beside the service it starts.
        copy = pathlib.Path(directory) / "uring-okay.service"
        copy.write_text(unit.replace(f"ExecStart={exec_start.group(1)}", f"ExecStart={binary}"))
        shutil.copy(DOCKER / "uring-okay.socket", directory)
        for name in ("uring-okay.service", "uring-okay.socket"):
            unit_path = str(pathlib.Path(directory) / name)
            verify = subprocess.run(["systemd-analyze", "verify", unit_path], capture_output=True,
                                    text=True, timeout=60)
            said = (verify.stdout + verify.stderr).strip()
            check(verify.returncode == 0 and not said, f"{name}: {said}")


def activated(binary, environment):
    """uring-okay.socket's way: systemd-socket-activate listens on 127.0.0.1 and a free port,
    the healthcheck's connection makes it exec the binary with the socket as fd 3 (LISTEN_FDS),
    the binary answers that connection from the queue, and SIGTERM ends it with status 0."""
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        print("deploy_examples_test: systemd-socket-activate missing: activation not tried")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {key: str(value) for key, value in environment.items()}
    env["URING_OKAY_LISTEN"] = "127.0.0.1:1"  # not used: the passed socket wins
    command = [tool, "--listen", f"127.0.0.1:{port}"]
    command += [f"--setenv={key}={value}" for key, value in env.items()] + [binary]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and server.poll() is None:
                log.seek(0)
                if b"Listening on" in log.read():
                    break
                time.sleep(0.02)
            probe = subprocess.run([binary, "healthcheck"], capture_output=True, timeout=10,
                                   env={"URING_OKAY_LISTEN": f"127.0.0.1:{port}"})
            check(probe.returncode == 0, f"uring-okay.socket: healthcheck exited "
                                         f"{probe.returncode}: {probe.stdout + probe.stderr!r}")
            server.send_signal(signal.SIGTERM)
            status = server.wait(timeout=5)
            log.seek(0)
            said = log.read()
            check(status == 0, f"uring-okay.socket: SIGTERM: exit status {status}: {said!r}")
            check(f"listening on 127.0.0.1:{port},".encode() in said,
                  f"uring-okay.socket: the passed socket not served: {said!r}")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def main():
    binary = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else TOP / "build/static/uring-okay")
    for example in (kubernetes, compose, systemd_unit):
        example(binary)
    for failure in failures:
        print("deploy_examples_test: FAILED:", failure)
    print(f"deploy_examples_test: {3 - len({f.split(':')[0] for f in failures})} passed, "
          f"{len({f.split(':')[0] for f in failures})} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
