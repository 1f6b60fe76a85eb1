from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Model

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    from rights.models import Grant


def holds_use_grant(user: AbstractBaseUser | AnonymousUser, grant: Grant) -> bool:
    """Whether the user's department group holds ``rights.use_grant`` on the grant.

    The same answer as ``user.has_perm("rights.use_grant", grant)`` for the department-group
    permissions the grant services assign, in one query instead of guardian's two: this check
    runs on every real-time and result-only call, so the query is written out rather than built
    by the ORM each time (a test holds it to guardian's answer).
    """
    if not (user.is_authenticated and user.is_active):
        return False
    with connection.cursor() as cursor:
        cursor.execute(_use_grant_sql(), [grant.pk, user.pk])
        return cursor.fetchone() is not None


@functools.cache
def _use_grant_sql() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from rights.models import GrantGroupObjectPermission

    def table(model: type[Model]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    return (
        f"SELECT 1 FROM {table(GrantGroupObjectPermission)} AS held "  # noqa: S608 - model tables
        f"JOIN {table(get_user_model().groups.through)} AS member "
        "ON member.group_id = held.group_id "
        f"JOIN {table(Permission)} AS perm ON perm.id = held.permission_id "
        f"JOIN {table(ContentType)} AS kind ON kind.id = perm.content_type_id "
        "WHERE held.content_object_id = %s AND member.user_id = %s "
        "AND perm.codename = 'use_grant' AND kind.app_label = 'rights' LIMIT 1"
    )
