"""Benchmarks for smbwire against a throwaway Samba, side by side with ``smbclient``."""
