"""Reading Resques for a scrape and turning the readings into collectors."""
