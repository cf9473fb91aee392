"""What a boto3 user does with a signed-in user's ID token against sofaas, with assertions:
assume a role (STS AssumeRoleWithWebIdentity), then invoke with the temporary credentials.

Run by tests/e2e/sts_test.cpp with SOFAAS_ENDPOINT, ROLE_ARN, ID_TOKEN (a user of a pool the
role trusts), USER_SUB (that user's sub) and OTHER_POOL_TOKEN (a user of a pool it does not
trust). The role grants invoking "hello" and "whoami" and nothing else; "hello" is invoked
once and queued once. Prints the credentials as one
JSON line, then "all checks passed"; exits non-zero with a message on the first thing that
is not as AWS would have it.
"""
import datetime
import json
import os
import sys

import boto3
import botocore.config
import botocore.exceptions

endpoint = os.environ["SOFAAS_ENDPOINT"]
role_arn = os.environ["ROLE_ARN"]
config = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=30)
# No credentials at all: the ID token is the caller's only one.
sts = boto3.client("sts", endpoint_url=endpoint + "/sts/", region_name="us-east-1", config=config)


def check(condition, what):
    if not condition:
        sys.exit("boto3: " + what)


def error_of(call, **arguments):
    try:
        call(**arguments)
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    sys.exit("boto3: " + call.__name__ + " succeeded where it should not")


assumed = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="boto3-user",
                                            WebIdentityToken=os.environ["ID_TOKEN"], DurationSeconds=900)
credentials = assumed["Credentials"]
check(credentials["AccessKeyId"].startswith("ASIA"), "a temporary access key id: " + credentials["AccessKeyId"])
check(len(credentials["SecretAccessKey"]) == 40 and len(credentials["SessionToken"]) > 100, "secret and session token")
left = credentials["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
check(datetime.timedelta(seconds=800) < left <= datetime.timedelta(seconds=901), "expires in 900 s: " + str(left))
check(assumed["SubjectFromWebIdentityToken"] == os.environ["USER_SUB"], "the subject is the user's sub")
check(assumed["AssumedRoleUser"]["Arn"] == role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") +
      "/boto3-user", "the assumed role's ARN: " + assumed["AssumedRoleUser"]["Arn"])
check(assumed["AssumedRoleUser"]["AssumedRoleId"].endswith(":boto3-user"), "the assumed role id")
check(assumed["Provider"].endswith("/auth/customers"), "the provider is the pool's issuer: " + assumed["Provider"])

session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"], region_name="us-east-1")
lam = session.client("lambda", endpoint_url=endpoint, config=config)
answer = lam.invoke(FunctionName="hello", Payload=json.dumps("session"))
check(answer["StatusCode"] == 200, "invoke with the session answers 200")
check(answer["Payload"].read() == b'Hello, "session"!', "invoke returns the output")
queued = lam.invoke(FunctionName="hello", InvocationType="Event", Payload=json.dumps("later"))
check(queued["StatusCode"] == 202, "an Event invocation with the session is queued (202)")
# The function is told who called: the session's key, its role and the signed-in user.
caller = json.loads(lam.invoke(FunctionName="whoami", Payload=b"{}")["Payload"].read())["caller"]
check(caller == {"key_id": credentials["AccessKeyId"], "role": "web", "user_sub": os.environ["USER_SUB"],
                 "schedule": ""}, "whoami names the caller: " + json.dumps(caller))

check(error_of(lam.invoke, FunctionName="echo", Payload=b"{}") == ("AccessDeniedException", 403),
      "a function outside the role is refused with 403 AccessDeniedException")
check(error_of(lam.list_functions) == ("AccessDeniedException", 403), "list_functions is outside the role")

tampered = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"][:-1] + "x",
                                 region_name="us-east-1").client("lambda", endpoint_url=endpoint, config=config)
check(error_of(tampered.invoke, FunctionName="hello", Payload=b"{}") == ("UnrecognizedClientException", 403),
      "a tampered session token is refused")
wrong_secret = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                     aws_secret_access_key="x" * 40, aws_session_token=credentials["SessionToken"],
                                     region_name="us-east-1").client("lambda", endpoint_url=endpoint, config=config)
check(error_of(wrong_secret.invoke, FunctionName="hello", Payload=b"{}") == ("InvalidSignatureException", 403),
      "a signature with another secret is refused")

assume = sts.assume_role_with_web_identity
check(error_of(assume, RoleArn=role_arn, RoleSessionName="x1", WebIdentityToken=os.environ["OTHER_POOL_TOKEN"]) ==
      ("AccessDenied", 403), "a token of a pool the role does not trust is refused")
check(error_of(assume, RoleArn=role_arn[:-3] + "nosuchrole", RoleSessionName="x1",
               WebIdentityToken=os.environ["ID_TOKEN"]) == ("AccessDenied", 403), "a role that does not exist")
id_token = os.environ["ID_TOKEN"]
header, payload, signature = id_token.split(".")
forged = header + "." + payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
check(error_of(assume, RoleArn=role_arn, RoleSessionName="x1", WebIdentityToken=forged) == ("InvalidIdentityToken", 400),
      "a token with another signature is refused")
check(error_of(assume, RoleArn=role_arn, RoleSessionName="x1", WebIdentityToken="not a token") ==
      ("InvalidIdentityToken", 400), "a token that is no JWT is refused")
check(error_of(assume, RoleArn=role_arn, RoleSessionName="x1", WebIdentityToken=id_token, DurationSeconds=7200) ==
      ("ValidationError", 400), "a session longer than the role allows is refused")

print(json.dumps({"AccessKeyId": credentials["AccessKeyId"], "SecretAccessKey": credentials["SecretAccessKey"],
                  "SessionToken": credentials["SessionToken"]}))
print("all checks passed")
