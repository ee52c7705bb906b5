"""smbwire: a pure-Python SMB/CIFS client, API-compatible with pysmb.

``from smb.SMBConnection import SMBConnection`` is the usual entry point.
"""
__version__ = "0.1.0"
