from django.core.exceptions import ValidationError


def add_service_errors(form, exc, field=None):
    """Show an error raised by a service on the form: per field where the form has the field."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            target = name if name in form.fields else field
            for message in messages:
                form.add_error(target, message)
        return
    messages = (
        exc.messages
        if isinstance(exc, ValidationError)
        else [str(getattr(exc, "message", None) or exc)]
    )
    for message in messages:
        form.add_error(field, message)


def error_message(exc):
    """One line for a refused service call (ValidationError, PermissionDenied, DomainError)."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "message", None) or exc)
