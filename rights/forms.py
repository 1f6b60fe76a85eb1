from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import TEXTAREA
from rights.models import Attestation


class AttestationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What was done with the delivered copies"),
        choices=Attestation.Kind.choices,
        widget=forms.RadioSelect,
    )
    statement = forms.CharField(
        label=_("Statement"),
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=5000,
        help_text=_("What was deleted or returned, where it was kept, when, and by whom."),
    )
