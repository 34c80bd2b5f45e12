"""IAM for credential specs: the permissions a reference needs, the least-privilege
policy that grants them, and an evaluator that tells whether policies allow them.

The task execution role reads the spec; a missing permission surfaces only when
a task fails to start. These parts answer before that, offline on policy files
or online on the role itself (:mod:`gmsa.iam.role`).
"""

__all__ = [
    "evaluate",
    "policy",
    "requirements",
    "role",
    "wildcard",
]
