"""The only package that imports boto3/botocore: session setup, live-state reader, writer.

May import every stage below the command line (config, documents, plan, access, reports,
apply, interfaces); never reconciler.cli."""
