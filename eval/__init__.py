"""Evaluation harness: repeatable figures against data nobody on the team wrote.

Each task module (asr.py, extraction.py, retrieval.py, pet.py, policy.py, ...) exposes
``run(ctx: EvalContext) -> Section``; ``python -m eval`` runs them and writes the reports.
"""
