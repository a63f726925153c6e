"""The edge to Slack: Web API clients, replies to a person, and reading what a payload carries."""
