from departments.models import Department


def department_may_report_quality(department, resource):
    """The office, or a department holding a grant on the resource that has not ended (active or
    suspended); never the owner, who corrects its own data without a report."""
    from rights.models import Grant

    if department.pk == resource.owner_department_id:
        return False
    if department.kind == Department.Kind.OFFICE:
        return True
    return Grant.objects.filter(
        resource_id=resource.pk,
        grantee_department_id=department.pk,
        status__in=[Grant.Status.ACTIVE, Grant.Status.SUSPENDED],
    ).exists()
