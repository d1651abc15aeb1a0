"""A tiny STAC API on 127.0.0.1 for offline tests of ``geonb.datasets.stac``.

It serves what pystac-client needs (landing page, ``/conformance``, ``/collections``,
``/collections/{id}``, ``/search`` by POST and GET) and the files of a folder under ``/files/``
with HTTP Range support, so rasterio's windowed ``/vsicurl/`` reads really fetch byte ranges.
Every request is logged (method, path, Range header, bytes sent) so a test can prove that a
read was windowed, and failures can be injected (``fail(path_prefix, status, times)``) to test
retries and clean-up.

Usage::

    with StacStub(files_dir) as stub:
        stub.add_collection({...})
        stub.add_item({...})          # asset hrefs may use "{base}/files/name.tif"
        client = pystac_client.Client.open(stub.url)
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

CONFORMS_TO = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]


@dataclass
class Logged:
    method: str
    path: str
    range: str | None
    status: int
    query: str
    nbytes: int


def _parse_dt(text: str | None) -> datetime | None:
    if text in (None, "", ".."):
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _item_interval(item: dict) -> tuple[datetime, datetime]:
    p = item["properties"]
    if p.get("datetime"):
        t = _parse_dt(p["datetime"])
        return t, t
    return _parse_dt(p["start_datetime"]), _parse_dt(p["end_datetime"])


def _bbox_intersects(a, b) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _geometry_bbox(geom: dict) -> list[float]:
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    walk(geom["coordinates"])
    return [min(xs), min(ys), max(xs), max(ys)]


class StacStub:
    """A STAC API stub plus a Range-capable file server, in a background thread."""

    def __init__(self, files_dir: str | Path):
        self.files_dir = Path(files_dir)
        self.collections: dict[str, dict] = {}
        self.items: list[dict] = []
        self.log: list[Logged] = []
        self._failures: list[list] = []  # [prefix, status, times_left]
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StacStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StacStub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- content --------------------------------------------------------------------------
    def add_collection(self, collection: dict) -> None:
        self.collections[collection["id"]] = collection

    def add_item(self, item: dict) -> None:
        item = json.loads(json.dumps(item).replace("{base}", self.url))
        self.items.append(item)

    def file_url(self, name: str) -> str:
        return f"{self.url}/files/{name}"

    def fail(self, path_prefix: str, status: int = 503, times: int = 1) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with ``status``."""
        with self._lock:
            self._failures.append([path_prefix, status, times])

    # -- inspection -----------------------------------------------------------------------
    def requests_to(self, prefix: str) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    def range_requests(self, prefix: str = "/files/") -> list[Logged]:
        return [r for r in self.requests_to(prefix) if r.range]

    def bytes_sent(self, prefix: str = "/files/") -> int:
        return sum(r.nbytes for r in self.requests_to(prefix))

    # -- search ---------------------------------------------------------------------------
    def search(self, params: dict) -> dict:
        cols = params.get("collections")
        if isinstance(cols, str):
            cols = cols.split(",")
        bbox = params.get("bbox")
        if isinstance(bbox, str):
            bbox = [float(v) for v in bbox.split(",")]
        if params.get("intersects"):
            bbox = _geometry_bbox(params["intersects"])
        start = end = None
        if params.get("datetime"):
            parts = str(params["datetime"]).split("/")
            start = _parse_dt(parts[0])
            end = _parse_dt(parts[-1])
        ids = params.get("ids")
        if isinstance(ids, str):
            ids = ids.split(",")
        out = []
        for item in self.items:
            if cols and item["collection"] not in cols:
                continue
            if ids and item["id"] not in ids:
                continue
            if bbox and not _bbox_intersects(item["bbox"], bbox):
                continue
            if start or end:
                t0, t1 = _item_interval(item)
                if (end and t0 > end) or (start and t1 < start):
                    continue
            out.append(item)
        limit = int(params.get("limit") or 100)
        return {"type": "FeatureCollection", "features": out[:limit], "links": []}

    def landing(self) -> dict:
        base = self.url
        return {
            "type": "Catalog", "id": "stub", "stac_version": "1.0.0", "description": "geonb test STAC API",
            "conformsTo": CONFORMS_TO,
            "links": [
                {"rel": "self", "href": f"{base}/", "type": "application/json"},
                {"rel": "root", "href": f"{base}/", "type": "application/json"},
                {"rel": "conformance", "href": f"{base}/conformance", "type": "application/json"},
                {"rel": "data", "href": f"{base}/collections", "type": "application/json"},
                {"rel": "search", "href": f"{base}/search", "type": "application/geo+json", "method": "GET"},
                {"rel": "search", "href": f"{base}/search", "type": "application/geo+json", "method": "POST"},
            ],
        }

    # -- HTTP -----------------------------------------------------------------------------
    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one buffered write, Nagle off: no 40 ms delayed-ACK stalls per request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep pytest output quiet
                pass

            def _record(self, status: int, nbytes: int) -> None:
                with stub._lock:
                    url = urlparse(self.path)
                    stub.log.append(Logged(self.command, url.path, self.headers.get("Range"), status, url.query,
                                           nbytes))

            def _injected_failure(self, head: bool) -> bool:
                path = urlparse(self.path).path
                with stub._lock:
                    for f in stub._failures:
                        if path.startswith(f[0]) and f[2] > 0:
                            f[2] -= 1
                            status = f[1]
                            break
                    else:
                        return False
                self._send(status, b'{"code": "injected failure"}', "application/json", head=head)
                return True

            def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None,
                      head: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                self._record(status, 0 if head else len(body))

            def _json(self, obj, status: int = 200) -> None:
                self._send(status, json.dumps(obj).encode(), "application/json")

            def _file(self, name: str, head: bool) -> None:
                path = (stub.files_dir / name).resolve()
                if stub.files_dir.resolve() not in path.parents or not path.is_file():
                    self._send(404, b"not found", "text/plain", head=head)
                    return
                data = path.read_bytes()
                size = len(data)
                rng = self.headers.get("Range")
                if rng:
                    m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                    if not m:
                        self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"}, head)
                        return
                    start = int(m.group(1))
                    stop = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
                    if start >= size:
                        self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"}, head)
                        return
                    self._send(206, data[start:stop + 1], "image/tiff",
                               {"Content-Range": f"bytes {start}-{stop}/{size}", "Accept-Ranges": "bytes"}, head)
                else:
                    self._send(200, data, "image/tiff", {"Accept-Ranges": "bytes"}, head)

            def _route(self, head: bool = False) -> None:
                # Read the body first, even when failing, so the kept-alive connection stays in sync.
                n = int(self.headers.get("Content-Length") or 0)
                self._body = self.rfile.read(n) if n else b""
                if self._injected_failure(head):
                    return
                url = urlparse(self.path)
                path = url.path.rstrip("/") or "/"
                if path.startswith("/files/"):
                    self._file(path[len("/files/"):], head)
                elif path == "/":
                    self._json(stub.landing())
                elif path == "/conformance":
                    self._json({"conformsTo": CONFORMS_TO})
                elif path == "/collections":
                    self._json({"collections": list(stub.collections.values()), "links": []})
                elif path.startswith("/collections/"):
                    cid = path.split("/")[2]
                    if cid in stub.collections:
                        self._json(stub.collections[cid])
                    else:
                        self._json({"code": "NotFound", "description": f"no collection {cid}"}, 404)
                elif path == "/search":
                    if self.command == "POST":
                        params = json.loads(self._body or b"{}")
                    else:
                        params = {k: v[0] for k, v in parse_qs(url.query).items()}
                        if "intersects" in params:
                            params["intersects"] = json.loads(params["intersects"])
                    self._json(stub.search(params))
                else:
                    self._json({"code": "NotFound"}, 404)

            def do_GET(self):  # noqa: N802 (http.server's naming)
                self._route()

            def do_HEAD(self):  # noqa: N802
                self._route(head=True)

            def do_POST(self):  # noqa: N802
                self._route()

        return Handler
