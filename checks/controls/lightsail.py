"""JADA-LS: the Lightsail instance, through boto3 (controls registered in issue 5 work)."""
