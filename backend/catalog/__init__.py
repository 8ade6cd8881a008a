"""The product catalogue and must-stock assortments."""
