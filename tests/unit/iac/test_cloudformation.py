"""Reading CloudFormation templates: YAML short-form tags, lines, strict JSON, the
intrinsic functions the template alone decides."""

from __future__ import annotations

import pytest

from gmsa.iac.cloudformation import (
    NO_VALUE,
    Deferred,
    Resolver,
    TemplateError,
    is_template,
    looks_like_yaml_template,
    parse_template,
    read_document,
    read_template,
    written,
)
from gmsa.jsondoc import JsonDocumentError

# -- reading YAML and JSON ---------------------------------------------------------


def test_short_form_tags_become_the_long_form() -> None:
    text = """
Resources:
  A:
    Type: AWS::SNS::Topic
    Properties:
      Ref: !Ref Other
      GetAtt: !GetAtt Role.Arn
      GetAttList: !GetAtt [Role, Arn]
      Sub: !Sub "a-${AWS::Region}"
      SubList: !Sub ["${X}", {X: !Ref Y}]
      Join: !Join ["-", [a, !Ref B]]
      If: !If [Cond, a, !Ref AWS::NoValue]
      Select: !Select [0, [a, b]]
      Import: !ImportValue shared
"""
    document, _ = read_document(text.encode(), source="t.yaml")
    props = document["Resources"]["A"]["Properties"]
    assert props["Ref"] == {"Ref": "Other"}
    assert props["GetAtt"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["GetAttList"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["Sub"] == {"Fn::Sub": "a-${AWS::Region}"}
    assert props["SubList"] == {"Fn::Sub": ["${X}", {"X": {"Ref": "Y"}}]}
    assert props["Join"] == {"Fn::Join": ["-", ["a", {"Ref": "B"}]]}
    assert props["If"] == {"Fn::If": ["Cond", "a", {"Ref": "AWS::NoValue"}]}
    assert props["Select"] == {"Fn::Select": [0, ["a", "b"]]}
    assert props["Import"] == {"Fn::ImportValue": "shared"}


def test_yaml_lines_are_recorded_by_json_path() -> None:
    text = (
        "Resources:\n  A:\n    Type: X\n    Properties:\n      L:\n"
        "        - one\n        - !Ref B\n"
    )
    _, lines = read_document(text.encode(), source="t.yaml")
    assert lines["Resources.A"] == 3
    assert lines["Resources.A.Properties.L[0]"] == 6
    assert lines["Resources.A.Properties.L[1]"] == 7


def test_json_templates_are_read_strictly_and_still_have_lines() -> None:
    text = '{\n "Resources": {\n  "A": {\n   "Type": "X",\n   "Properties": {"K": 1}\n  }\n }\n}\n'
    document, lines = read_document(text.encode(), source="t.json")
    assert document["Resources"]["A"]["Properties"]["K"] == 1
    assert lines["Resources.A.Properties.K"] == 5
    with pytest.raises(JsonDocumentError):
        read_document(b'{"Resources": {}, "Resources": {}}', source="t.json")


def test_template_version_date_stays_a_string() -> None:
    document, _ = read_document(
        b"AWSTemplateFormatVersion: 2010-09-09\nResources: {A: {Type: X}}\n", source="t.yaml"
    )
    assert document["AWSTemplateFormatVersion"] == "2010-09-09"


def test_duplicate_yaml_keys_are_refused_with_the_line() -> None:
    with pytest.raises(TemplateError) as caught:
        read_document(b"Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", source="t.yaml")
    assert caught.value.where == "t.yaml:3"


def test_yaml_syntax_error_says_line_and_column() -> None:
    with pytest.raises(TemplateError) as caught:
        read_document(b"Resources:\n  A: [unclosed\n", source="t.yaml")
    assert (caught.value.where or "").startswith("t.yaml:")


def test_a_template_needs_typed_resources() -> None:
    assert is_template({"Resources": {"A": {"Type": "AWS::SNS::Topic"}}})
    assert not is_template({"family": "x", "containerDefinitions": []})
    assert not is_template({"Resources": {}})
    with pytest.raises(TemplateError):
        parse_template({"Parameters": {}}, {}, source="t.yaml")


def test_written_is_the_short_form() -> None:
    assert written({"Ref": "X"}) == "!Ref X"
    assert written({"Fn::GetAtt": ["Role", "Arn"]}) == "!GetAtt Role.Arn"
    assert written({"Fn::Sub": "a-${B}"}) == "!Sub a-${B}"
    assert len(written({"Fn::Sub": "x" * 500})) == 120


# -- where the text of a string starts -------------------------------------------


def test_a_literal_block_maps_each_line_of_its_text_to_a_line_of_the_file() -> None:
    text = (
        "Resources:\n"  # 1
        "  P:\n"  # 2
        "    Type: AWS::SSM::Parameter\n"  # 3
        "    Properties:\n"  # 4
        "      Value: |\n"  # 5
        "        {\n"  # 6
        '          "a": 1\n'  # 7
        "        }\n"  # 8
        "      Sub: !Sub |\n"  # 9
        "        x\n"  # 10
        "        ${Y}\n"  # 11
        '      Plain: "one line"\n'  # 12
    )
    template = read_template(text.encode(), source="t.yaml")
    assert template.text_line("Resources.P.Properties.Value", 2) == 7
    assert template.text_line("Resources.P.Properties.Sub.Fn::Sub", 2) == 11
    assert template.text_line("Resources.P.Properties.Plain", 5) == 12
    assert template.line("Resources.P.Properties.Plain.Deeper[3]") == 12
    assert template.line("Nowhere") is None


def test_json_strings_have_the_line_of_the_value() -> None:
    text = '{"Resources": {\n"P": {"Type": "X", "Properties": {\n"Value": "{\\n\\"a\\": 1}"}}}}'
    template = read_template(text.encode(), source="t.json")
    assert template.text_line("Resources.P.Properties.Value", 2) == 3


def test_yaml_that_means_to_be_a_template_is_told_apart() -> None:
    assert looks_like_yaml_template("# comment\nResources:\n  A: [\n")
    assert looks_like_yaml_template("AWSTemplateFormatVersion: '2010-09-09'\n")
    assert not looks_like_yaml_template("family: x\nResourcesUsed: 1\n")


# -- intrinsic functions -------------------------------------------------------------


def test_the_resolver_decides_only_what_the_template_decides() -> None:
    resolver = Resolver({"AWS::Partition": "aws"})
    assert resolver.value({"Fn::Sub": "arn:${AWS::Partition}:x"}) == "arn:aws:x"
    assert resolver.value({"Fn::Join": ["", ["a", {"Fn::Sub": "${!Literal}"}]]}) == "a${Literal}"
    assert resolver.value({"Ref": "AWS::NoValue"}) is NO_VALUE
    deferred = resolver.value({"Fn::Sub": "${DomainSid}"})
    assert isinstance(deferred, Deferred) and deferred.written == "!Sub ${DomainSid}"
    assert isinstance(resolver.value({"Ref": "AWS::Region"}), Deferred)
