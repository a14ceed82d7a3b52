"""Accounts, roles, login, passwords and permission predicates (§7)."""
