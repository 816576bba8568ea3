"""osce-kg: build a knowledge graph of OSCE statements and publish it for SPARQL."""

__version__ = "0.1.0"
