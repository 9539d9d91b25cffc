"""Approval rules: time limits, logic warnings (流程固化) and card escalation."""
