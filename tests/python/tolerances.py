"""The numeric tolerances of tests/tolerances.json (the one table the C++ tests, these tests and
scripts/gpu/parity.py read): tol("float32", "layouts")."""
import json
import os

_TABLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "tolerances.json")))


def tol(dtype, name):
    return float(_TABLE[dtype][name])
