"""NetBIOS name service (NBNS) and session service support."""
