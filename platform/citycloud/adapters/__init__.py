"""One adapter per outside system (OpenStack, Keycloak, Kubernetes,
Prometheus, Grafana, Ansible). Each maps its SDK's errors to
:mod:`citycloud.errors` and turns live state into the desired state's shapes."""
