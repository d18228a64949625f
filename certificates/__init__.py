"""OCOP certificates: a producer's products, officer imports, claiming, ownership (issue 4)."""
