"""Where credential specs are stored: S3, SSM Parameter Store, a local directory."""
