"""Diagnoses: the registry (data) and the engine that applies it."""

from smtplog.rules.engine import diagnose, diagnose_session
from smtplog.rules.registry import Diagnosis, diagnoses, get

__all__ = ["Diagnosis", "diagnose", "diagnose_session", "diagnoses", "get"]
