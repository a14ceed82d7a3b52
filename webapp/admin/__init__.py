"""System administration: accounts (create, disable, reset, unlock)."""
