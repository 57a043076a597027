"""The only package that imports boto3/botocore: session setup, live-state reader, writer."""
