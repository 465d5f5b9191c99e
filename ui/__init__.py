"""The Streamlit user interface. UI only: every action goes through ``pipeline``."""
