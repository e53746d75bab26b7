"""Malformed set-parameters requests against a running node (the agent, over DDS): each gets a failed
result naming the parameter and its type id, and the node goes on answering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters, SetParametersAtomically
from rclpy.client import Client
from rclpy.node import Node

from robot_agent.ros_wait import wait_for_future, wait_for_service
from robot_agent.testing import NodeProcess

TIMEOUT_S = 60.0
NOT_A_TYPE = 99


@pytest.fixture
def agent() -> Iterator[NodeProcess]:
    process = NodeProcess("robot_agent.nodes.agent_node")
    yield process
    assert process.stop() == 0, process.output()


def malformed(name: str) -> Parameter:
    return Parameter(name=name, value=ParameterValue(type=NOT_A_TYPE))


def test_a_parameter_of_no_known_type_is_refused_and_the_node_goes_on(agent: NodeProcess, ros_node: Node) -> None:
    set_parameters: Client[Any, Any] = ros_node.create_client(SetParameters, "/agent/set_parameters")
    atomically: Client[Any, Any] = ros_node.create_client(SetParametersAtomically, "/agent/set_parameters_atomically")
    get_parameters: Client[Any, Any] = ros_node.create_client(GetParameters, "/agent/get_parameters")
    for client in (set_parameters, atomically, get_parameters):
        wait_for_service(client, TIMEOUT_S)

    valid = Parameter(name="max_replans", value=ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=2))
    request = SetParameters.Request(parameters=[malformed("backend"), valid])
    response = wait_for_future(set_parameters.call_async(request), TIMEOUT_S, "set_parameters answer")
    assert response.results[0].successful is False
    assert "'backend'" in response.results[0].reason and "type id 99" in response.results[0].reason
    assert len(response.results) == 2  # one result per parameter asked for; the valid one was tried

    request_atomic = SetParametersAtomically.Request(parameters=[malformed("skill_timeout_s")])
    result = wait_for_future(atomically.call_async(request_atomic), TIMEOUT_S, "set_parameters_atomically answer")
    assert not result.result.successful and "'skill_timeout_s'" in result.result.reason

    answer = wait_for_future(
        get_parameters.call_async(GetParameters.Request(names=["backend"])), TIMEOUT_S, "get_parameters answer"
    )
    assert answer.values[0].string_value == "offline"  # still answering, with its values unchanged
    assert agent.running, agent.output()
