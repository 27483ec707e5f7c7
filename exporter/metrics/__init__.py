"""Snapshot -> metric families (pure)."""
