"""Plain names of OCPI connector standards, as drivers know them (the OCPI code goes beside)."""

from __future__ import annotations

PLAIN_NAMES = {
    "IEC_62196_T2": "Type 2",
    "IEC_62196_T2_COMBO": "CCS (Combo 2)",
    "IEC_62196_T1": "Type 1",
    "IEC_62196_T1_COMBO": "CCS (Combo 1)",
    "IEC_62196_T3A": "Type 3A",
    "IEC_62196_T3C": "Type 3C",
    "CHADEMO": "CHAdeMO",
    "CHAOJI": "ChaoJi",
    "TESLA_S": "Tesla",
    "TESLA_R": "Tesla Roadster",
    "NEMA_5_20": "NEMA 5-20",
    "GBT_AC": "GB/T AC",
    "GBT_DC": "GB/T DC",
    "DOMESTIC_F": "Schuko (household socket)",
    "DOMESTIC_E": "French household socket",
    "DOMESTIC_G": "UK household socket",
    "IEC_60309_2_single_16": "Blue CEE 16 A",
    "IEC_60309_2_three_16": "Red CEE 16 A",
    "IEC_60309_2_three_32": "Red CEE 32 A",
    "IEC_60309_2_three_64": "Red CEE 63 A",
}


def plain_name(standard: str) -> str:
    """The name a driver knows a connector by, e.g. IEC_62196_T2 -> Type 2."""
    return PLAIN_NAMES.get(standard, standard.replace("_", " "))
