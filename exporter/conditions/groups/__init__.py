"""The conditions by Prometheus rule group, each module holding its conditions' PromQL, texts and checks
side by side; :mod:`..catalog` lists them in runbook order."""
