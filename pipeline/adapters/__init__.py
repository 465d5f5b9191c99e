"""The only modules that import provider SDKs (faster_whisper, openai/langchain, chromadb)."""
