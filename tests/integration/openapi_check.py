"""Checking real responses against docs/openapi.yaml: a validator for the
subset of OpenAPI 3.0 schemas the document uses, and check(), which checks
one response against the document's entry for its path, method and status
and notes that entry as exercised (so that a module can assert, at its end,
that every documented entry it owns was produced by some test).

Used by test_api.py (the JSON API) and test_compat.py (the Piston and Judge0
look-alikes, whose operations carry the tag "compat").
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Set, Tuple

import ftharness

JSON = "application/json"
COMPAT_TAG = "compat"



def resolve(spec: Dict, schema: Dict) -> Dict:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


KNOWN_KEYWORDS = {"$ref", "type", "nullable", "enum", "required", "properties",
                  "additionalProperties", "items", "allOf", "minimum", "maximum",
                  "description", "default", "format"}


def validate(spec: Dict, value: Any, schema: Dict, where: str = "$") -> List[str]:
    """Errors of value against schema (empty when valid)."""
    schema = resolve(spec, schema)
    unknown = set(schema) - KNOWN_KEYWORDS
    assert not unknown, "%s: the validator does not know %s" % (where, unknown)
    errs: List[str] = []
    if value is None and schema.get("nullable"):
        return errs
    for sub in schema.get("allOf", []):
        errs += validate(spec, value, sub, where)
    if value is None:
        if "type" in schema and not schema.get("nullable"):
            errs.append("%s: null where %s is required" % (where, schema["type"]))
        return errs
    t = schema.get("type")
    ok_type = {
        None: True,
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }[t]
    if not ok_type:
        return errs + ["%s: %r is not of type %s" % (where, value, t)]
    if "enum" in schema and value not in schema["enum"]:
        errs.append("%s: %r is not one of %r" % (where, value, schema["enum"]))
    if "minimum" in schema and value < schema["minimum"]:
        errs.append("%s: %r < minimum %r" % (where, value, schema["minimum"]))
    if "maximum" in schema and value > schema["maximum"]:
        errs.append("%s: %r > maximum %r" % (where, value, schema["maximum"]))
    if isinstance(value, list):
        for i, item in enumerate(value):
            errs += validate(spec, item, schema.get("items", {}), "%s[%d]" % (where, i))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in value:
                errs.append("%s: required field %r missing" % (where, k))
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errs += validate(spec, v, props[k], "%s.%s" % (where, k))
            elif extra is False:
                # allOf parts may define it: only complain when no part does
                if not any(k in resolve(spec, s).get("properties", {})
                           for s in schema.get("allOf", [])):
                    errs.append("%s: unexpected field %r" % (where, k))
            elif isinstance(extra, dict):
                errs += validate(spec, v, extra, "%s.%s" % (where, k))
    return errs


def operation(spec: Dict, path: str, method: str) -> Dict:
    assert path in spec["paths"], "%s is not documented" % path
    ops = spec["paths"][path]
    assert method.lower() in ops, "%s %s is not documented" % (method, path)
    return ops[method.lower()]


def check(spec: Dict, path: str, method: str, r: ftharness.Response,
          exercised: Set[Tuple[str, str, str]]) -> Any:
    """Check r against the document's entry for (path, method, r.status);
    return the parsed JSON body (or the text for non-JSON media types)."""
    op = operation(spec, path, method)
    status = str(r.status)
    assert status in op["responses"], (
        "%s %s answered %s, which the document does not list (%s): %s"
        % (method, path, status, sorted(op["responses"]), r.body[:300]))
    exercised.add((path, method.lower(), status))
    doc = resolve(spec, op["responses"][status])
    for h in doc.get("headers", {}):
        assert r.headers.get(h), "%s %s %s: documented header %s missing" % (method, path, status, h)
    content = doc.get("content", {})
    if not content:
        return r.body
    (media, media_doc), = content.items()
    ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip()
    assert ctype == media, "%s %s %s: Content-Type %r, documented %r" % (
        method, path, status, ctype, media)
    if media != JSON:
        return r.body
    body = json.loads(r.body)
    errs = validate(spec, body, media_doc["schema"])
    assert not errs, "%s %s %s: body does not match the document:\n  %s\nbody: %s" % (
        method, path, status, "\n  ".join(errs), r.body[:1000])
    return body


def gateway_access(spec: Dict, response: Dict) -> bool:
    """Whether a response is one of the gateway's door (401, 421, 429 on
    every path: components.responses marked x-gateway-access), which
    test_gateway_users.py produces rather than the API's own modules."""
    return bool(resolve(spec, response).get("x-gateway-access"))


def documented(spec: Dict, compat: bool) -> Set[Tuple[str, str, str]]:
    """(path, method, status) of every documented response, of the
    compatibility endpoints (compat) or of the rest; the gateway's door's
    answers (gateway_access) aside."""
    return {(path, method, str(status))
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
            if (COMPAT_TAG in op.get("tags", [])) == compat
            for status, resp in op["responses"].items()
            if not gateway_access(spec, resp)}


def documented_gateway_access(spec: Dict) -> Set[Tuple[str, str, str]]:
    """(path, method, status) of every documented answer of the door."""
    return {(path, method, str(status))
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
            for status, resp in op["responses"].items()
            if gateway_access(spec, resp)}
