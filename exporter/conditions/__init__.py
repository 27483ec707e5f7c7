"""Conditions: one definition of each thing an operator is paged for or shown (dead, stuck, fat, unattended,
down, ...), used by the mixin's rules, the attention page, the pages and the API alike."""
