"""Where credential specs are stored: S3, SSM Parameter Store, a local directory."""

__all__ = [
    "cache",
    "fetcher",
    "interface",
    "localdir",
    "publish",
    "resolve",
    "s3",
    "ssm",
]
