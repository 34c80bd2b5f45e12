"""IAM for credential specs: the permissions a reference needs, the least-privilege
policy that grants them, and an evaluator that tells whether policies allow them.

The task execution role reads the spec; a missing permission surfaces only when
a task fails to start. These parts answer before that, offline on policy files
or online on the role itself (:mod:`gmsa.iam.role`).
"""

from gmsa.iam.evaluate import Decision, decisions_to_findings, evaluate
from gmsa.iam.policy import (
    PolicyDocument,
    PolicyError,
    Statement,
    least_privilege_policy,
    load_policy_file,
    parse_policy,
)
from gmsa.iam.requirements import (
    InvalidArnError,
    Permission,
    merge_permissions,
    required_permissions,
    requirement_findings,
)

__all__ = [
    "Decision",
    "InvalidArnError",
    "Permission",
    "PolicyDocument",
    "PolicyError",
    "Statement",
    "decisions_to_findings",
    "evaluate",
    "least_privilege_policy",
    "load_policy_file",
    "merge_permissions",
    "parse_policy",
    "required_permissions",
    "requirement_findings",
]
