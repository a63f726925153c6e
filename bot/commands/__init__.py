"""The slash command: its typed commands, their usage texts, the parser, and the dispatch table."""
