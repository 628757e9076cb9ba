from enum import StrEnum


class NotificationKind(StrEnum):
    ADOPTER_INVITATION = "adopter_invitation"
    PASSWORD_RESET = "password_reset"
