"""The dubset command line."""
