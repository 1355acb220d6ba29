"""The register: what the reports promised, what inspections judged and what figures they state, each cited."""

# Where the register lives in the index folder; here so opening an index need not import the register's code.
REGISTER_FILE = "commitments.json"
