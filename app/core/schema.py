"""What belongs to our schema, for Alembic autogenerate and the models-vs-migrations check."""

from typing import Any

from geoalchemy2 import alembic_helpers

# Tables owned by PostGIS / SpatiaLite, not by us.
EXTENSION_TABLES = frozenset(
    {
        "spatial_ref_sys",
        "geometry_columns",
        "geography_columns",
        "raster_columns",
        "raster_overviews",
        "layer",
        "topology",
    }
)
EXTENSION_PREFIXES = ("idx_", "sql_", "spatial", "geometry_columns_", "views_geometry", "virts_")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave extension tables alone and let GeoAlchemy2 judge spatial indexes."""
    if (
        type_ == "table"
        and name
        and (name in EXTENSION_TABLES or name.startswith(EXTENSION_PREFIXES))
    ):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _is_extension_table(name: str) -> bool:
    return name in EXTENSION_TABLES or name.startswith(EXTENSION_PREFIXES)
