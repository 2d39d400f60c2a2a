"""Schemathesis checks for DocDe's bad-input sweep (scripts/test-openapi-sweep).

Loaded through SCHEMATHESIS_HOOKS. Every error answer must be RFC 9457 problem+json with a
stable `code` (docs/API.md, "Errors"); `not_a_server_error` (built in) catches the 5xx.
"""

import json

import schemathesis


@schemathesis.check
def problem_json_with_code(ctx, response, case):
    """Every 4xx/5xx is application/problem+json with a string `code`."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered as {content_type!r}, not application/problem+json"
        )
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"problem body is not JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        raise AssertionError(f"problem body has no `code`: {str(body)[:200]}")
    return None
