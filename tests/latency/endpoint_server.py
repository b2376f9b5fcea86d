"""A model server on 127.0.0.1 for the endpoint latency tests and benchmark.

It serves a real scikit-learn model (a logistic regression fitted at start on seeded data) over
HTTP-JSON (``POST /predict/<name>``: a list of rows, or ``{"instances": rows}``) and the KServe
v2 REST shape (``POST /v2/models/<name>/infer``). Every model holds one lock while it works,
as a GPU serves one batch at a time, and pads its work to ``service_ms`` (the device time).

Models by name (``python endpoint_server.py PORT_FILE [SCALE]``; SCALE multiplies every
service time):

* ``clean`` and ``twin`` (its own lock, for an A/A): 2 ms; ``slow``: 2.6 ms (a model 30%
  slower);
* ``stall``: 2 ms, and the first request ``STALL_AT_S`` after ``POST /reset`` holds the lock
  for 300 ms, so every request behind it queues (a GC pause, a weight reload);
* ``error500``: always HTTP 500; ``drip``: an answer whose body trickles one byte each 0.3 s;
  ``nooutputs``: HTTP 200 without KServe's ``outputs``.

Nagle is disabled and writes are buffered: Python's http.server otherwise sends headers and
body in two small writes, and the client's delayed ACK adds 40 ms to every answer.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

N_FEATURES = 8
STALL_AT_S, STALL_MS = 1.0, 300.0
SERVICE_MS = {"clean": 2.0, "twin": 2.0, "slow": 2.6, "stall": 2.0}


def fit_model() -> LogisticRegression:
    X, y = make_classification(n_samples=500, n_features=N_FEATURES, random_state=0)
    return LogisticRegression(max_iter=500).fit(X, y)


class Model:
    def __init__(self, name: str, scale: float):
        self.name = name
        self.service_s = SERVICE_MS.get(name, 2.0) * scale / 1e3
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.stall_at = time.perf_counter() + STALL_AT_S if self.name == "stall" else None

    def predict(self, rows: np.ndarray) -> list[float]:
        with self.lock:  # one request at a time, as on one device
            start = time.perf_counter()
            out = MODEL.predict_proba(rows)[:, 1].tolist()
            work = self.service_s
            if self.stall_at is not None and start >= self.stall_at:
                self.stall_at = None
                work += STALL_MS / 1e3
            left = work - (time.perf_counter() - start)
            if left > 0:
                time.sleep(left)
        return out


MODEL = fit_model()
MODELS: dict[str, Model] = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (flushed per request)

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._reply(200, {"ready": True})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        parts = self.path.strip("/").split("/")
        if parts[0] == "reset":
            for m in MODELS.values():
                m.reset()
            return self._reply(200, {"reset": True})
        if parts[0] == "predict" and len(parts) == 2:
            name, kserve = parts[1], False
        elif parts[:2] == ["v2", "models"] and len(parts) == 4 and parts[3] == "infer":
            name, kserve = parts[2], True
        else:
            return self._reply(404, {"error": f"no route {self.path}"})
        if name == "error500":
            return self._reply(500, {"error": "internal error"})
        if name == "drip":
            return self._drip()
        if name == "nooutputs":  # 200, but not a KServe v2 answer
            return self._reply(200, {"model_name": name})
        model = MODELS.get(name)
        if model is None:
            return self._reply(404, {"error": f"no model {name}"})
        if kserve:
            tensor = body["inputs"][0]
            rows = np.asarray(tensor["data"], dtype=float).reshape(tensor["shape"])
        else:
            rows = np.asarray(body["instances"] if isinstance(body, dict) else body, dtype=float)
        scores = model.predict(rows.reshape(-1, N_FEATURES))
        if kserve:
            return self._reply(200, {"model_name": name, "outputs": [
                {"name": "output-0", "shape": [len(scores)], "datatype": "FP32",
                 "data": scores}]})
        return self._reply(200, {"predictions": scores})

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.flush()
        for _ in range(100):  # ends within 30 s even if the client never gives up
            time.sleep(0.3)
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of new connections must not meet SYN drops

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the drip, a timeout) closes its socket: not news


def main() -> None:
    port_file = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    for name in SERVICE_MS:
        MODELS[name] = Model(name, scale)
    server = Server(("127.0.0.1", 0), Handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
