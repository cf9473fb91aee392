"""A boto3 call retried by botocore runs its function once, as on Lambda it should.

Run by tests/e2e/lambda_api_test.cpp: SOFAAS_ENDPOINT, the key in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY, the zips of sleep.so and hello.so at argv[1] and argv[2]. The test
then reads the bill: one run of retry-sleep, one of retry-event.
"""
import json
import os
import sys
import uuid

import boto3
import botocore.config

endpoint = os.environ["SOFAAS_ENDPOINT"]


def check(condition, what):
    if not condition:
        sys.exit("boto3: " + what)


setup = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                     config=botocore.config.Config(retries={"total_max_attempts": 1}))
with open(sys.argv[1], "rb") as sleep_zip, open(sys.argv[2], "rb") as hello_zip:
    setup.create_function(FunctionName="retry-sleep", Runtime="provided.al2023", Role="r", Handler="sleep.so",
                          Code={"ZipFile": sleep_zip.read()}, Timeout=5)
    setup.create_function(FunctionName="retry-event", Runtime="provided.al2023", Role="r", Handler="hello.so",
                          Code={"ZipFile": hello_zip.read()})

# botocore's legacy retries of a read timeout resend the call with the same
# amz-sdk-invocation-id while the first attempt still runs (2.5 s against a 1 s read
# timeout): the retries wait for it, and the call ends with its answer.
impatient = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                         config=botocore.config.Config(read_timeout=1, retries={"mode": "legacy", "max_attempts": 3}))
attempts = []
impatient.meta.events.register("before-send.lambda.Invoke",
                               lambda request, **_: attempts.append(request.headers["amz-sdk-invocation-id"]))
answer = impatient.invoke(FunctionName="retry-sleep", Payload=b"2500")
check(answer["StatusCode"] == 200 and "FunctionError" not in answer, "the retried call succeeds: " + str(answer))
check(len(attempts) >= 2, "botocore retried the read timeout: %d attempts" % len(attempts))
check(len(set(attempts)) == 1, "every attempt has the same invocation id: " + str(attempts))
print("boto3: %d attempts of one call" % len(attempts))

# Two Event calls with one invocation id, as a retried one sends them: one event queued.
invocation_id = str(uuid.uuid4())


def same_invocation_id(context, **_):
    context.setdefault("retries", {})["invocation-id"] = invocation_id


setup.meta.events.register("before-call.lambda.Invoke", same_invocation_id)
for _ in range(2):
    queued = setup.invoke(FunctionName="retry-event", InvocationType="Event", Payload=json.dumps("event"))
    check(queued["StatusCode"] == 202, "Event answers 202: " + str(queued["StatusCode"]))
print("boto3: all checks passed")
