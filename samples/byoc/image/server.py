"""A model server that knows nothing of devkit: stdlib HTTP on port 8080.

GET /health is liveness (the process answers), GET /ready is readiness (the model is
loaded), POST /predict scores {"data": [x, ...]} with the linear model found under
$AZUREML_MODEL_DIR, where Azure (and devkit) mount the deployment's model.
"""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODEL: dict = {}


def load_model() -> None:
    time.sleep(float(os.environ.get("WARMUP_SECONDS", "0")))  # a slow model load
    model_dir = Path(os.environ["AZUREML_MODEL_DIR"])
    MODEL.update(json.loads(next(model_dir.rglob("weights.json")).read_text()))
    print(f"model loaded from {model_dir}: {MODEL}", flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        if self.path == "/health":
            self.answer(200, {"status": "alive"})
        elif self.path == "/ready":
            self.answer(200 if MODEL else 503, {"ready": bool(MODEL)})
        else:
            self.answer(404, {"message": f"no route {self.path}"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path.split("?")[0] != "/predict":
            self.answer(404, {"message": f"no route {self.path}"})
            return
        try:
            xs = json.loads(body)["data"]
            predictions = [MODEL["slope"] * float(x) + MODEL["intercept"] for x in xs]
        except (ValueError, KeyError, TypeError) as exc:
            self.answer(400, {"message": f"send {{\"data\": [numbers]}} ({exc!r})"})
            return
        self.answer(200, {"predictions": predictions,
                          "model_dir": os.environ.get("AZUREML_MODEL_DIR")})

    def answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode() + b"\n"
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    threading.Thread(target=load_model, daemon=True).start()
    print("serving on :8080", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
