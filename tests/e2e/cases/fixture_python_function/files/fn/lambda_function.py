import json

with open("config.json") as f:
    CONFIG = json.load(f)


def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"stage": CONFIG["stage"]})}
