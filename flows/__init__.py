"""Guided flows (GOV.UK Smart Answers style): nodes + explicit next-node functions, answers replayed."""
