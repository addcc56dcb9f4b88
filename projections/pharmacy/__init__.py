"""Pharmacy (seed 000): the catalog and prices, warehouses and stock lots, orders made on a visit,
dispensing.
"""
