"""Production data collection to local files (CONTRACT.md §7).

    settings   what the host asks for (DEVKIT_DATA_COLLECTOR), read once per process
    sampling   one sampling decision per request id, shared by router and replicas
    events     Azure's event envelope around one collected payload
    writer     a bounded queue and one writer thread: files rolled by rolling_rate
    monitoring the ``azureml.ai.monitoring`` API score.py imports (Collector, contexts)
    payloads   the router's request/response logging

Collecting never slows or breaks scoring: events are queued, written by a thread, and a
disk problem is one warning; what was queued is flushed when the process stops cleanly.
"""
