"""The Gradio web app: one module per tab, render.py for all escaping and labelling, auth.py for login."""
