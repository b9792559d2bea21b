"""Cashless payment of fees: a port to a payment provider, our side, and a stand-in provider."""
