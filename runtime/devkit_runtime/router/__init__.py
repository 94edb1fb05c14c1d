"""The endpoint router: the local front end of a managed online endpoint (docs/contract.md §3).

One router fronts every deployment of one endpoint. It authenticates the caller, picks a
deployment (weighted split, ``azureml-model-deployment`` pin, background mirror), forwards
the request over a keep-alive connection pool to one of the deployment's replicas, and
translates upstream outcomes into the managed front end's status codes (401/404/408/424/
429/502/503). It ships in ``devkit_runtime`` because it runs inside a container on the
endpoint's Docker network as well as a host process, so it imports nothing from ``devkit``.

Modules, lowest first:

    config    the JSON config file the host writes (parsing and validation, no I/O policy)
    policy    the traffic split as a pure object with a seeded random source
    auth      key hashes and HMAC-signed tokens
    upstream  a small asyncio HTTP/1.1 client with a keep-alive pool per replica
    metrics   per-deployment counters and latency histograms (Prometheus text and JSON)
    state     one applied config generation, and the watcher that swaps it in
    app       the request handling that ties them together (Router.handle)
    relay     streamed answers passed on part by part
    server    the HTTP/1.1 front end: an asyncio Protocol over httptools (not ASGI)
    __main__  ``python -m devkit_runtime.router --config DIR/router.json --host H --port P``
"""

from devkit_runtime.router.config import ConfigError, RouterConfig, load_config
from devkit_runtime.router.policy import Decision, TrafficPolicy

__all__ = ["ConfigError", "Decision", "RouterConfig", "TrafficPolicy", "load_config"]
