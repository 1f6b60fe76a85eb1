"""Domain exceptions raised by services; the web shows them as messages, the API maps them."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    default_message = _("The request could not be carried out.")

    def __init__(self, message: str | Promise | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(str(self.message))


class IllegalTransition(DomainError):
    """The object is not in a state that allows this step (API: 409)."""

    status_code = 409
    default_message = _("This step is not allowed in the object's current state.")


class PayloadTooLarge(DomainError):
    status_code = 413
    default_message = _("The file is larger than the allowed size.")
