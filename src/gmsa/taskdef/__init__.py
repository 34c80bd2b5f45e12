"""ECS task definitions: read them (also out of CloudFormation templates and Terraform
plans), lint their gMSA settings, patch them."""

__all__ = [
    "cloudformation",
    "iac",
    "inputs",
    "lint",
    "model",
    "patch",
    "terraform",
]
