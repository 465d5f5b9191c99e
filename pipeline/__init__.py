"""Shikumi: recorded hearings -> reviewed, structured procedures -> grounded answers.

Follow one interview through the stages in this order:
  audio.py -> transcribe.py -> extract.py (chunking.py, align.py) -> review.py -> index.py
  -> retrieve.py -> assistant.py
with the domain model in models.py, the database of record in store/ and the
only SDK imports in adapters/.
"""

__version__ = "0.1.0"
