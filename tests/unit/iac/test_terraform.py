"""Reading Terraform plans: resources of the root and child modules, values known only
after apply."""

from __future__ import annotations

import pytest

from gmsa.iac.terraform import PlanError, is_plan, planned_resources


def test_resources_of_every_module_with_what_is_unknown() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": "aws_ssm_parameter.a", "type": "aws_ssm_parameter", "values": {}},
                    {"address": "aws_sns_topic.t", "type": "aws_sns_topic", "values": {}},
                    {
                        "address": "data.aws_ssm_parameter.d",
                        "mode": "data",
                        "type": "aws_ssm_parameter",
                        "values": {},
                    },
                ],
                "child_modules": [
                    {
                        "resources": [
                            {
                                "address": "module.m.aws_ssm_parameter.b",
                                "type": "aws_ssm_parameter",
                                "values": {"value": "x"},
                            }
                        ]
                    }
                ],
            }
        },
        "resource_changes": [
            {
                "address": "aws_ssm_parameter.a",
                "type": "aws_ssm_parameter",
                "change": {"after_unknown": {"value": True, "tags": {"k": True}}},
            }
        ],
    }
    found = planned_resources(plan, source="p.json", types=("aws_ssm_parameter",))
    assert [r.address for r in found] == ["aws_ssm_parameter.a", "module.m.aws_ssm_parameter.b"]
    assert found[0].unknown("value") and found[0].unknown("tags", "k")
    assert not found[0].unknown("name") and not found[1].unknown("value")
    assert found[1].values == {"value": "x"}


def test_not_a_plan() -> None:
    assert not is_plan({"Resources": {}})
    with pytest.raises(PlanError):
        planned_resources({"Resources": {}}, source="p.json", types=("x",))
