"""The office room: ward-office clerks and supervisors work their queues here."""
