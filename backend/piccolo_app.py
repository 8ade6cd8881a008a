"""The Piccolo app: every table, and where its migrations live."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.auth.tables import LoginFailure
from backend.catalog.tables import Assortment, Product
from backend.inspections.tables import Inspection, InspectionItem
from backend.orgs.tables import Organization, User
from backend.planning.tables import RoutePlan, RouteStop
from backend.push.tables import PushDelivery, PushSubscription
from backend.stores.tables import Store, StoreFence, Territory
from backend.sync_api.tables import SyncBucket, SyncCounter, SyncField, SyncRemoval
from backend.visits.tables import Photo, Reminder, Visit

APP_CONFIG = AppConfig(
    app_name="fieldbook",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[
        Organization,
        User,
        LoginFailure,
        Territory,
        Store,
        StoreFence,
        Product,
        Assortment,
        RoutePlan,
        RouteStop,
        Visit,
        Photo,
        Reminder,
        Inspection,
        InspectionItem,
        PushSubscription,
        PushDelivery,
        SyncField,
        SyncCounter,
        SyncRemoval,
        SyncBucket,
    ],
    migration_dependencies=[],
    commands=[],
)
