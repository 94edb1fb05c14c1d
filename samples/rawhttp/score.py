"""Scoring script of the raw-HTTP sample: bytes in, bytes out, with ``@rawhttp``.

With ``@rawhttp`` the server hands ``run()`` the request object itself instead of a
decoded string, so the script sees raw bytes, the method and the headers, and answers
with an ``AMLResponse`` whose body and headers it chooses. The "model" is a 16-byte key
in the model folder: a POST body comes back XOR-ed with the key, so posting the answer
again returns the original bytes. GET answers with a usage note as JSON.
"""

import json
import os

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse

key = b""


def init():
    global key
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "key.bin"), "rb") as file:
        key = file.read()
    print(f"rawhttp: loaded a {len(key)}-byte key")


@rawhttp
def run(request: AMLRequest):
    if request.method == "GET":
        usage = {
            "usage": "POST any bytes; the answer is the same length, XOR-ed with the "
                     "model's key. POST the answer again to get the original back.",
            "key_bytes": len(key),
        }
        return AMLResponse(json.dumps(usage), 200, {"Content-Type": "application/json"})
    if request.method != "POST":
        return AMLResponse(json.dumps({"message": "use GET or POST"}), 405,
                           {"Content-Type": "application/json"})
    body = request.data
    scrambled = bytes(byte ^ key[index % len(key)] for index, byte in enumerate(body))
    print(f"rawhttp: transformed {len(body)} bytes")
    return AMLResponse(scrambled, 200, {"Content-Type": "application/octet-stream"})
