"""ingest — the bench's own nginx-rtmp ingest on 127.0.0.1, recording what it receives.

Like tests/integration/lib/ingest.sh (nginx with libnginx-mod-rtmp, daemon off, its own prefix
in a temp dir) but on the ports the bench is told to use, which it refuses to take from anyone:
a port that is busy ends the bench before anything starts. Application "live" records every
stream it receives to DIR/rec/KEY.flv (nginx `record all`), which is how the bench measures what
arrived: frame rate, bitrate, missing frames and picture quality. The rtmp_stat page is polled
to time "process start → publisher visible".
"""
import http.client
import os
import re
import socket
import subprocess
import time

from procs import spawn, stop

NGINX = os.environ.get("BENCH_NGINX", "/usr/sbin/nginx")
MODULES = os.environ.get("BENCH_NGINX_MODULES", "/usr/lib/nginx/modules")


def port_taken(port):
    """True when something listens on 127.0.0.1:port or the port cannot be bound."""
    s = socket.socket()
    s.settimeout(0.2)
    try:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            return True
    finally:
        s.close()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


class Ingest:
    def __init__(self, workdir, rtmp_port, http_port):
        self.dir = os.path.join(workdir, "ingest")
        self.rec_dir = os.path.join(self.dir, "rec")
        self.rtmp_port, self.http_port = rtmp_port, http_port
        self.url = f"rtmp://127.0.0.1:{rtmp_port}/live"
        self.proc = None
        self._conn = None

    def start(self):
        for p in (self.rtmp_port, self.http_port):
            if port_taken(p):
                raise RuntimeError(f"port 127.0.0.1:{p} is taken: the bench refuses to run "
                                   f"(choose others with --rtmp-port/--http-port)")
        if not os.path.exists(os.path.join(MODULES, "ngx_rtmp_module.so")):
            raise RuntimeError("ngx_rtmp_module.so missing: sh packaging/install-build-deps")
        for d in ("logs", "tmp", "rec"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""load_module {MODULES}/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log info;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen 127.0.0.1:{self.rtmp_port};
        chunk_size 4096;
        application live {{
            live on;
            record all;
            record_path {self.rec_dir};
            record_unique off;
        }}
    }}
}}
http {{
    access_log off;
    client_body_temp_path {self.dir}/tmp/body;
    proxy_temp_path {self.dir}/tmp/proxy;
    fastcgi_temp_path {self.dir}/tmp/fastcgi;
    uwsgi_temp_path {self.dir}/tmp/uwsgi;
    scgi_temp_path {self.dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{self.http_port};
        location /stat {{ rtmp_stat all; }}
    }}
}}
""")
        self.proc = spawn([NGINX, "-p", self.dir, "-c", conf, "-e",
                           os.path.join(self.dir, "logs", "error.log")],
                          stdout=os.path.join(self.dir, "logs", "stdout.log"),
                          stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: see {self.dir}/logs/error.log")
            try:
                self.stat_xml()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not answer on its stat page")

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None

    def stat_xml(self):
        """The rtmp_stat page, over one kept-alive connection (polled every few ms)."""
        for attempt in (0, 1):
            try:
                if self._conn is None:
                    self._conn = http.client.HTTPConnection("127.0.0.1", self.http_port,
                                                            timeout=2)
                self._conn.request("GET", "/stat")
                return self._conn.getresponse().read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                if self._conn:
                    self._conn.close()
                self._conn = None
                if attempt:
                    raise
        return ""

    def publishing(self, key):
        xml = self.stat_xml()
        for block in re.findall(r"<stream>(.*?)</stream>", xml, re.S):
            if f"<name>{key}</name>" in block:
                return "<publishing/>" in block
        return False

    def wait_publisher(self, key, t0, timeout, alive):
        """Seconds from t0 (time.monotonic) until key publishes, polling every 5 ms; None if
        it does not within timeout or alive() turns false."""
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.publishing(key):
                return time.monotonic() - t0
            if not alive():
                return None
            time.sleep(0.005)
        return None

    def recording(self, key):
        return os.path.join(self.rec_dir, key + ".flv")
