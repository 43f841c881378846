"""Diagnoses: the registry (data) and the engine that applies it."""

from smtplog.rules.engine import diagnose
from smtplog.rules.registry import Diagnosis, diagnoses, get

__all__ = ["Diagnosis", "diagnose", "diagnoses", "get"]
