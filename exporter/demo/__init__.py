"""Embedded demo for ``resque-exporter --demo``: live-looking Resques on in-process fakeredis."""

from .simulator import DemoEnvironment, ResqueSimulator

__all__ = ["DemoEnvironment", "ResqueSimulator"]
