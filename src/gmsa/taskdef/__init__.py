"""ECS task definitions: read them, lint their gMSA settings, patch them."""

from gmsa.taskdef.model import (
    ContainerDefinition,
    CredentialSpecUse,
    TaskDefinition,
    TaskDefinitionError,
    load_task_definition,
    parse_task_definition,
)

__all__ = [
    "ContainerDefinition",
    "CredentialSpecUse",
    "TaskDefinition",
    "TaskDefinitionError",
    "load_task_definition",
    "parse_task_definition",
]
