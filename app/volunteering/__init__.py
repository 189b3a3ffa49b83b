"""Volunteer activities, the service-hours ledger and verifiable certificates (志愿服务记录与证明)."""
