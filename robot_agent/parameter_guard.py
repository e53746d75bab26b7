"""A guard on a node's set-parameters services against requests rclpy cannot read.

rclpy's parameter service converts each requested parameter with ``Parameter.from_parameter_msg``
before its own error handling, so a type id that is no parameter type (e.g. 99) raises
``ValueError`` in the service callback: the caller gets no answer and the exception reaches the
executor. Here each request is checked first; a parameter of an unknown type gets a failed result
that names it and its type id, and the rest go to rclpy's callback as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, SetParametersResult
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
from rclpy.node import Node

KNOWN_TYPES = frozenset(
    value for name, value in vars(ParameterType).items() if name.startswith("PARAMETER_") and isinstance(value, int)
)


def unreadable(parameter: ParameterMsg) -> str | None:
    """Why a requested parameter cannot be read, or None."""
    if parameter.value.type not in KNOWN_TYPES:
        return f"parameter {parameter.name!r}: type id {parameter.value.type} is not a parameter type"
    return None


def guard_parameter_services(node: Node) -> None:
    """Wrap the node's SetParameters and SetParametersAtomically callbacks with the check above."""
    for service in node.services:
        if service.srv_type is SetParameters:
            service.callback = _guarded_set(service.callback)
        elif service.srv_type is SetParametersAtomically:
            service.callback = _guarded_atomic(service.callback)


Callback = Callable[[Any, Any], Any]


def _guarded_set(callback: Callback) -> Callback:
    def guarded(request: SetParameters.Request, response: SetParameters.Response) -> SetParameters.Response:
        reasons = [unreadable(p) for p in request.parameters]
        if not any(reasons):
            return callback(request, response)
        readable = SetParameters.Request(
            parameters=[p for p, r in zip(request.parameters, reasons, strict=True) if not r]
        )
        results = iter(callback(readable, SetParameters.Response()).results if readable.parameters else [])
        response.results = [SetParametersResult(successful=False, reason=r) if r else next(results) for r in reasons]
        return response

    return guarded


def _guarded_atomic(callback: Callback) -> Callback:
    def guarded(
        request: SetParametersAtomically.Request, response: SetParametersAtomically.Response
    ) -> SetParametersAtomically.Response:
        reasons = [r for r in (unreadable(p) for p in request.parameters) if r]
        if not reasons:
            return callback(request, response)
        response.result = SetParametersResult(successful=False, reason="; ".join(reasons))
        return response

    return guarded
