"""Payments (§6): finance records date and voucher per award; overdue awards stand out."""
