#!/usr/bin/env python3
"""Validate a STIX 2.1 bundle against the OASIS STIX 2.1 JSON schemas (local copies).

usage: validate_stix.py SCHEMAS_DIR BUNDLE.json

The bundle is checked against common/bundle.json, and every object against the schema of its
own type (sdos/, sros/, observables/, common/), so that an object cannot slip through the
bundle schema's branch for custom objects. `$ref`s resolve to the local files only (no
network). Exit 0: valid; 1: invalid (errors printed); 3: python's jsonschema is missing.
"""
import json
import pathlib
import sys

try:
    import jsonschema
    from referencing import Registry, Resource
except ImportError as e:  # pragma: no cover
    print(f"jsonschema missing: {e} (python3 -m pip install jsonschema)")
    sys.exit(3)


def main():
    schemas = pathlib.Path(sys.argv[1])
    bundle = json.loads(pathlib.Path(sys.argv[2]).read_text(encoding="utf-8"))
    by_id = {}
    by_type = {}
    for p in sorted(schemas.rglob("*.json")):
        doc = json.loads(p.read_text(encoding="utf-8"))
        by_id[doc["$id"]] = doc
        by_type[p.stem] = doc
    registry = Registry().with_resources(
        (uri, Resource.from_contents(doc)) for uri, doc in by_id.items()
    )

    def validator(doc):
        cls = jsonschema.validators.validator_for(doc)
        return cls(doc, registry=registry)

    errors = []
    for e in validator(by_type["bundle"]).iter_errors(bundle):
        errors.append(f"bundle: {e.message} at {list(e.absolute_path)}")
    for i, obj in enumerate(bundle.get("objects", [])):
        t = obj.get("type")
        schema = by_type.get(t)
        if schema is None:
            errors.append(f"objects[{i}]: no schema for type {t!r}")
            continue
        for e in validator(schema).iter_errors(obj):
            errors.append(f"objects[{i}] ({obj.get('id')}): {e.message} at {list(e.absolute_path)}")
    if errors:
        for e in errors[:50]:
            print(e)
        print(f"invalid: {len(errors)} error(s)")
        return 1
    print(f"valid: {len(bundle.get('objects', []))} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
