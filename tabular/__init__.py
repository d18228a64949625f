"""Generic spreadsheet reading (CSV / XLSX) with Vietnamese header aliases."""
from tabular.reader import Row, TableError, read_table

__all__ = ["Row", "TableError", "read_table"]
