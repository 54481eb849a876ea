"""The shipped nginx configuration (deploy/nginx/), started on loopback for a test.

Only what must differ on a test machine is rewritten: file paths (pid, logs, temp
files, the site include), the listen address and the upstream port. Every timeout and
limit is tested as shipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.serving import REPO_ROOT, free_port

DEPLOY = REPO_ROOT / "deploy" / "nginx"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def render(workdir: Path, upstream_port: int, listen_port: int) -> Path:
    main = (DEPLOY / "nginx.conf").read_text()
    site = (DEPLOY / "homechef.conf").read_text()
    temp = {name: workdir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    replacements = {
        "pid /run/nginx.pid;": f"pid {workdir / 'nginx.pid'};",
        "/var/log/nginx/error.log": str(workdir / "error.log"),
        "/var/log/nginx/access.log": str(workdir / "access.log"),
        "include /etc/nginx/homechef.conf;": (
            f"client_body_temp_path {temp['body']}; proxy_temp_path {temp['proxy']};\n"
            f"    fastcgi_temp_path {temp['fastcgi']}; uwsgi_temp_path {temp['uwsgi']};\n"
            f"    scgi_temp_path {temp['scgi']};\n"
            f"    include {workdir / 'homechef.conf'};"),
    }
    for old, new in replacements.items():
        assert old in main, old
        main = main.replace(old, new)
    if os.geteuid() == 0:
        # Workers must be able to write the test's private temp directories.
        main = "user root root;\n" + main
    for old, new in {"server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
                     "listen 80;": f"listen 127.0.0.1:{listen_port};"}.items():
        assert old in site, old
        site = site.replace(old, new)
    (workdir / "homechef.conf").write_text(site)
    conf = workdir / "nginx.conf"
    conf.write_text(main)
    return conf


@dataclass
class Nginx:
    port: int
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        return (self.workdir / "error.log").read_text(errors="replace")

    def access_log(self) -> str:
        return (self.workdir / "access.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_nginx(binary: str, workdir: Path, upstream_port: int) -> Nginx:
    port = free_port()
    conf = render(workdir, upstream_port, port)
    check = subprocess.run([binary, "-t", "-c", str(conf), "-e", str(workdir / "error.log")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [binary, "-c", str(conf), "-e", str(workdir / "error.log"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server = Nginx(port, workdir, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"nginx did not listen:\n{server.error_log()}")
