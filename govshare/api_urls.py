from rest_framework.routers import DefaultRouter

from access_requests.api import RequestViewSet
from catalog.api import ResourceViewSet
from rights.api import GrantViewSet

router = DefaultRouter()
router.register("resources", ResourceViewSet, basename="resource")
router.register("requests", RequestViewSet, basename="request")
router.register("grants", GrantViewSet, basename="grant")

urlpatterns = router.urls
