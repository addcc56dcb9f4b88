"""The brigada command line: parse, call the application, render."""
