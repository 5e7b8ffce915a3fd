"""One S3 call with boto3, as an S3 user's program makes it; prints its result as JSON.

    s3.py ENDPOINT ACCESS SECRET list-buckets
    s3.py ENDPOINT ACCESS SECRET list-objects BUCKET
    s3.py ENDPOINT ACCESS SECRET get BUCKET KEY FILE    (writes the object to FILE)
    s3.py ENDPOINT ACCESS SECRET put BUCKET KEY FILE

An error S3 answered prints {"error": code, "status": http status} and exits 0, so that a test
asserts it like any other answer.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError
from botocore.handlers import validate_bucket_name

endpoint, access, secret, op, *args = sys.argv[1:]
# Signature v4, boto3's default, which radosgw checks through Keystone's s3tokens.
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret, region_name="us-east-1")
# radosgw names another tenant's bucket TENANT:BUCKET, which boto3 would refuse to send.
s3.meta.events.unregister("before-parameter-build.s3", validate_bucket_name)
try:
    if op == "list-buckets":
        out = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    elif op == "list-objects":
        out = [o["Key"] for o in s3.list_objects_v2(Bucket=args[0]).get("Contents", [])]
    elif op == "get":
        with open(args[2], "wb") as f:
            f.write(s3.get_object(Bucket=args[0], Key=args[1])["Body"].read())
        out = "ok"
    elif op == "put":
        with open(args[2], "rb") as f:
            s3.put_object(Bucket=args[0], Key=args[1], Body=f.read())
        out = "ok"
    else:
        sys.exit(f"unknown operation {op}")
except ClientError as err:
    out = {"error": err.response["Error"]["Code"], "status": err.response["ResponseMetadata"]["HTTPStatusCode"]}
print(json.dumps(out))
