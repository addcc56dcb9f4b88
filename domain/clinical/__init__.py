"""Clinical (seed 000): patients and their payer contracts, agendas and appointments, admissions,
encounters.
"""
