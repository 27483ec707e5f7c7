"""Jobs for the pyres scenario (imported by pyres workers by their dotted name `pyjobs.<Class>`)."""

import time


class OkJob:
    queue = "pyfast"

    @staticmethod
    def perform(n):
        return n


class FailJob:
    queue = "pyfast"

    @staticmethod
    def perform(n):
        raise ValueError(f"boom: {n}")


class SlowJob:
    queue = "pyslow"

    @staticmethod
    def perform(seconds):
        time.sleep(seconds)


class MailJob:
    queue = "pymail"

    @staticmethod
    def perform(to, options):
        return to
