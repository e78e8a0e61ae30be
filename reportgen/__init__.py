"""reportgen: declare an assignment's questions once; get every model trained, every figure drawn and the
report written (HTML and PDF) in one command."""

__version__ = "0.1.0"
