"""resque-agent: what runs on worker hosts (process facts, safe signals, policies)."""
