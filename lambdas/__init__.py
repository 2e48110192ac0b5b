"""AWS Lambda functions of Augury (each in its own package, bundled by the CDK app)."""
