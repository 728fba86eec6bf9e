"""Grafana: dashboards built with grafana-foundation-sdk, folders, teams and
permissions applied with grafana-client."""
