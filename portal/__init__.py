"""The unified cloud portal (Streamlit). ``app.py`` is the entry; see docs/portal.md."""
