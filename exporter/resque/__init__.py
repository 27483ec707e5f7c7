"""Everything that knows how Resque stores its data in Redis."""
