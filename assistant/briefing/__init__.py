"""Briefing notes: a cited note on one topic, drafted from the reports and the register, rendered as Markdown, HTML or Word."""
