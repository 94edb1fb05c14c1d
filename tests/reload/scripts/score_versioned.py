"""A score.py whose answer says which version of the code served it (tests edit VERSION)
and which worker process (pid), with a helper module beside it and a slow request for
in-flight checks."""

import os
import time

import helper

VERSION = 1


def init():
    print(f"score_versioned: init version {VERSION}")


def run(data):
    if data == "slow":
        print("slow request started", flush=True)
        time.sleep(1.5)
    return {"version": VERSION, "helper": helper.VALUE, "pid": os.getpid()}
