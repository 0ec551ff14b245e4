"""Errors of the device layer: part of the controller's exception tree."""

from __future__ import annotations

from controller.errors import ControllerError


class DeviceError(ControllerError):
    """Base of the device-layer errors (register maps, codec, discovery)."""


class UnknownPointError(DeviceError, KeyError):
    """A point name that the register map does not define."""


class NotWritableError(DeviceError):
    """A write to a read-only point."""


class WriteRangeError(DeviceError, ValueError):
    """A write value outside the register's allowed range."""


class DiscoveryError(DeviceError):
    """A SunSpec device whose marker or model chain cannot be found or parsed."""
