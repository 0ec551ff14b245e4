"""Modbus servers that behave like the real devices, driven by a plant model."""
