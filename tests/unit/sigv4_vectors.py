#!/usr/bin/env python3
"""Signs the requests of the SigV4 unit tests with botocore's own SigV4Auth, at a fixed
time, and prints each request with the Authorization header botocore gives it. The tests
embed this output (tests/unit/sigv4_vectors.h and sigv4_test.cpp); run it again
(/usr/bin/python3 tests/unit/sigv4_vectors.py) after changing a request there. Needs
python3-botocore (scripts/install-deps.sh installs python3-boto3)."""

import contextlib
import datetime
import hashlib
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY_ID = "SOFAEXAMPLEKEY234567"
SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY00"
SIGNED_AT = datetime.datetime(2026, 12, 6, 8, 30, 0)
HOST = "127.0.0.1:8080"

CASES = [
    ("get", "GET", "/v1/functions", {}, b""),
    ("post_with_query", "POST", "/2015-03-31/functions/hello%3Alive/invocations?Qualifier=%24LATEST",
     {"Content-Type": "application/json", "X-Custom": "  two   spaces\tand tab  "}, b'{"name": "sofaas"}'),
    ("unsorted_query", "GET", "/2015-03-31/functions/?MaxItems=10&Marker=a%2Fb&FunctionVersion=ALL&Empty=",
     {}, b""),
    ("with_date_header", "GET", "/v1/functions", {"Date": "placeholder"}, b""),
    ("with_content_sha256", "PUT", "/v1/functions/hello",
     {"X-Amz-Content-SHA256": "digest of the body"}, b"library"),
]


class FixedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return SIGNED_AT


def fixed_clock():
    """botocore reads the time with datetime.utcnow (1.29, Debian 12) or
    get_current_datetime (newer releases): both are pinned."""
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch("botocore.auth.datetime.datetime", FixedClock))
    if hasattr(botocore.auth, "get_current_datetime"):
        stack.enter_context(mock.patch("botocore.auth.get_current_datetime", lambda *args, **kwargs: SIGNED_AT))
    return stack


def main():
    credentials = Credentials(ACCESS_KEY_ID, SECRET)
    for name, method, target, headers, body in CASES:
        headers = dict(headers)
        if "X-Amz-Content-SHA256" in headers:
            headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        request = AWSRequest(method=method, url="http://" + HOST + target, headers=headers, data=body)
        with fixed_clock():
            SigV4Auth(credentials, "lambda", "us-east-1").add_auth(request)
        print(f"== {name}: {method} {target}")
        for header, value in request.headers.items():
            print(f"   {header}: {value!r}")
        print(f"   body: {body!r}")


if __name__ == "__main__":
    main()
