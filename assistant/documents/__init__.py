"""Reading reports: files to cleaned text with metadata, and text to passages (paragraphs, tables, headings)."""
