"""What a boto3 user does against sofaas's Lambda API, with assertions.

Run by tests/e2e/lambda_api_test.cpp: SOFAAS_ENDPOINT, the key in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY, the zip of hello.so at argv[1]. Exits non-zero with a message on the
first thing that is not as Lambda would have it.
"""
import base64
import concurrent.futures
import json
import os
import sys

import boto3
import botocore.config
import botocore.exceptions

endpoint = os.environ["SOFAAS_ENDPOINT"]
config = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=30)
client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", config=config)


def check(condition, what):
    if not condition:
        sys.exit("boto3: " + what)


with open(sys.argv[1], "rb") as zip_file:
    code = zip_file.read()

created = client.create_function(FunctionName="boto-hello", Runtime="provided.al2023", Role="arn:aws:iam::000000000000:role/ignored",
                                 Handler="hello.so", Code={"ZipFile": code}, MemorySize=128, Timeout=3)
check(created["FunctionName"] == "boto-hello", "create_function names the function")
check(created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:boto-hello", "the ARN: " + created["FunctionArn"])
client.get_waiter("function_active_v2").wait(FunctionName="boto-hello")
client.get_waiter("function_updated_v2").wait(FunctionName="boto-hello")

answer = client.invoke(FunctionName="boto-hello", Payload=json.dumps("boto3"), LogType="Tail")
check(answer["StatusCode"] == 200, "invoke answers 200")
check(answer["Payload"].read() == b'Hello, "boto3"!', "invoke returns the output")
check("FunctionError" not in answer, "no FunctionError for a success")
check(answer["ExecutedVersion"] == "1", "ExecutedVersion: " + answer["ExecutedVersion"])
log = base64.b64decode(answer["LogResult"]).decode()
check(log.startswith("START RequestId: ") and "REPORT RequestId: " in log, "LogResult holds START..REPORT: " + log)

by_arn = client.invoke(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:boto-hello:$LATEST", Payload=b"{}")
check(by_arn["StatusCode"] == 200, "invoke by ARN and qualifier")

try:
    client.invoke(FunctionName="nobody", Payload=b"{}")
    check(False, "invoking a missing function raises")
except client.exceptions.ResourceNotFoundException as error:
    check("nobody" in error.response["Error"]["Message"], "the message names the function")

try:
    client.invoke(FunctionName="boto-hello", Payload=b"not json")
    check(False, "a payload that is not JSON raises")
except client.exceptions.InvalidRequestContentException:
    pass

# Throttling: one slot, no queue (the daemon runs with limits.max_queue 0).
client.create_function(FunctionName="boto-sleep", Runtime="provided.al2023", Role="r", Handler="sleep.so",
                       Code={"ZipFile": open(sys.argv[2], "rb").read()}, Timeout=5)
client.put_function_concurrency(FunctionName="boto-sleep", ReservedConcurrentExecutions=1)
check(client.get_function_concurrency(FunctionName="boto-sleep")["ReservedConcurrentExecutions"] == 1,
      "get_function_concurrency")


def slow_call(_):
    try:
        client.invoke(FunctionName="boto-sleep", Payload=b"1500")
        return "ok"
    except client.exceptions.TooManyRequestsException:
        return "throttled"


with concurrent.futures.ThreadPoolExecutor(4) as pool:
    outcomes = list(pool.map(slow_call, range(4)))
check("throttled" in outcomes and "ok" in outcomes, "one slot: some calls throttled, some not: " + str(outcomes))

# An alias sends 10% of the calls to version 2: over 300 calls, within 4 standard deviations.
client.update_function_configuration(FunctionName="boto-hello", MemorySize=256)
client.get_waiter("function_updated_v2").wait(FunctionName="boto-hello")
alias = client.create_alias(FunctionName="boto-hello", Name="live", FunctionVersion="1",
                            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
check(alias["AliasArn"] == "arn:aws:lambda:us-east-1:000000000000:function:boto-hello:live", "AliasArn " + alias["AliasArn"])
check(client.get_alias(FunctionName="boto-hello", Name="live")["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1},
      "get_alias gives the weights back")
versions = [client.invoke(FunctionName="boto-hello", Qualifier="live", Payload=b"{}")["ExecutedVersion"] for _ in range(300)]
second = versions.count("2")
check(set(versions) == {"1", "2"} and 9 <= second <= 51, "10%% of 300 calls on version 2, got %d" % second)
check([a["Name"] for a in client.list_aliases(FunctionName="boto-hello")["Aliases"]] == ["live"], "list_aliases")
client.delete_alias(FunctionName="boto-hello", Name="live")

paginator = client.get_paginator("list_functions")
names = [f["FunctionName"] for page in paginator.paginate(PaginationConfig={"PageSize": 1}) for f in page["Functions"]]
check("boto-hello" in names and "boto-sleep" in names, "list_functions pages through all: " + str(names))

client.delete_function(FunctionName="boto-sleep")
try:
    client.get_function(FunctionName="boto-sleep")
    check(False, "a deleted function is gone")
except client.exceptions.ResourceNotFoundException:
    pass
print("boto3: all checks passed")
