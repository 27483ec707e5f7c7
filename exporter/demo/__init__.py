"""The demo: live-looking Resques written by a simulator, in Resque's real layout.

``resque-demo`` (:mod:`.launcher`) runs the three real programs and real demo workers on one throwaway
Redis; ``resque-exporter --demo`` and ``resque-sidecar --demo`` each keep their own in-process fakeredis;
``python -m resque_exporter.demo`` writes into a given Redis (the compose stack).
"""

from .simulator import DemoEnvironment, ResqueSimulator

__all__ = ["DemoEnvironment", "ResqueSimulator"]
