"""The AWS side of the suite; boto3 is imported only when a control needs it."""
