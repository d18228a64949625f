"""Operations infrastructure shared by every feature: metrics (Prometheus), health, admin alerts."""
