"""A question in, a cited answer out.

    kinds          what a question asks for (when, who, number, list, …), and which the register settles
    scope          the councils and time a question names, resolved against the library
    extractive     the sentences of the retrieved passages that answer, each cited (the default answerer)
    llm            an optional LLM-written answer, every sentence checked against a verbatim quote
    from_register  answers read from the register: promises, inspections, grades, a metric's values
    followups      a chat: follow-ups rewritten to stand alone, filters that persist
    engine         the Engine that puts them together (retrieval, register, extractive or LLM), and `ask`
"""
