"""Billing (seed 000): service vouchers, invoices issued on central, their numbering and RIPS."""
