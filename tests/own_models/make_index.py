#!/usr/bin/python3
"""Writes index.json for the project's own models (tools/model_generator), in
the layout of the HF fixtures' index, so the fixture tests run on them too:

  make_index.py OUT_INDEX MODEL_DIR...
"""
import json
import os
import sys


def main():
    out, dirs = sys.argv[1], sys.argv[2:]
    base = os.path.dirname(os.path.abspath(out))
    fixtures = []
    for d in dirs:
        with open(os.path.join(d, "fixture.json")) as f:
            fixture = json.load(f)
        fixture["path"] = os.path.relpath(os.path.abspath(d), base)
        fixtures.append(fixture)
    with open(out, "w") as f:
        json.dump({"source": "tools/model_generator/make_model.py", "count": len(fixtures),
                   "fixtures": fixtures}, f, indent=2)


if __name__ == "__main__":
    main()
