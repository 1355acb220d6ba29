"""The register: what the reports promised, what inspections judged and what figures they state, each cited."""
