"""Infrastructure as code: reading CloudFormation templates (and CDK synth output)
and Terraform plans, for the checks that look inside them."""

__all__ = [
    "cloudformation",
    "inputs",
    "terraform",
]
